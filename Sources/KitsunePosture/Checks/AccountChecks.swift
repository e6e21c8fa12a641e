/// CIS 4.1: AWS Config records Lambda functions (once per region).
public struct AccountChecks: CheckFamily {
    public init() {}

    public var checkIDs: [String] { ["config-records-lambda"] }

    public func evaluate(_ id: String, on target: CheckTarget, context: CheckContext) -> CheckOutcome? {
        guard id == "config-records-lambda", case .region(let region) = target else { return nil }
        switch region.configRecorder {
        case .unavailable(let why):
            return .cannotEvaluate("AWS Config recorder status in \(region.region): \(why)")
        case .known(let status):
            if !status.exists {
                return CheckOutcome(.fail, "No AWS Config configuration recorder exists in \(region.region): changes to Lambda functions are not recorded.")
            }
            if !status.recording {
                return CheckOutcome(.fail, "The AWS Config recorder in \(region.region) exists but is not recording.")
            }
            if !status.recordsLambda {
                return CheckOutcome(.fail, "The AWS Config recorder in \(region.region) does not record AWS::Lambda::Function.")
            }
            return CheckOutcome(.pass, "AWS Config records Lambda functions in \(region.region).")
        }
    }
}
