"""Creates N Lambda functions in moto (half tagged kitsune=enabled, a quarter with a layer of their own)."""
import io, sys, zipfile, boto3
endpoint, count = sys.argv[1], int(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="AKIAKITSUNEBENCH0001", aws_secret_access_key="x")
iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
role = iam.create_role(RoleName="bench-exec", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z: z.writestr("index.py", "def handler(e, c):\n    return 1\n")
code = buf.getvalue()
deps = lam.publish_layer_version(LayerName="deps", Content={"ZipFile": code})["LayerVersionArn"]
for i in range(count):
    lam.create_function(FunctionName=f"fn-{i:04d}", Runtime=["python3.12", "nodejs20.x"][i % 2], Role=role, Handler="index.handler",
                        Code={"ZipFile": code}, Layers=[deps] if i % 4 == 0 else [], Environment={"Variables": {"APP": f"app-{i}"}},
                        Tags={"kitsune": "enabled"} if i % 2 == 0 else {"team": "other"})
print(f"seeded {count} functions")
