# Shared by scripts/build-arm64 and scripts/build-musl (sourced, not run): the enforcer's Embedded
# Swift and C compiled outside SwiftPM with the same sources, flags and embedded resources as the
# SwiftPM build (Package.swift): -wmo -Osize, KitsunePolicyCore compiled into the enforcer (through
# the PolicyCore symlink), the default policy embedded in code like SwiftPM's embedInCode.
#
# The caller sets: root (the package), work (a temporary directory), cc (the C compiler),
# c_flags (array), swift_flags (array: at least -target and the C include flags).

# C module maps for the Swift importer (SwiftPM writes the same for its C targets).
embedded_prepare() {
  local m name header
  for m in CKitsuneSys:ckitsune.h CKitsuneTLS:ckitsunetls.h CKitsuneBuildInfo:kitsune_build_info.h; do
    name=${m%%:*}; header=${m#*:}
    mkdir -p "$work/modules/$name"
    printf 'module %s {\n  header "%s"\n  export *\n}\n' "$name" "$root/Sources/$name/include/$header" > "$work/modules/$name/module.modulemap"
  done
  # SwiftPM's embedInCode: `PackageResources.default_policy_yaml` as a byte array.
  {
    printf 'struct PackageResources {\nstatic let default_policy_yaml: [UInt8] = ['
    od -An -v -tu1 "$root/Sources/KitsuneEnforcer/Resources/default-policy.yaml" | tr -s ' \n' ',' | sed 's/^,//;s/,$//'
    printf ']\n}\n'
  } > "$work/embedded_resources.swift"
  # Warnings are the SwiftPM build's to show (same sources): -suppress-warnings.
  swift_flags+=(-enable-experimental-feature Embedded -wmo -Osize -suppress-warnings -I "$work/modules")
}

# One Swift module (all its sources, symlinks followed) to one object.
swift_object() {  # module-name object sources...
  local name=$1 object=$2; shift 2
  swiftc "${swift_flags[@]}" -module-name "$name" -c "$@" -o "$object"
}

# A C target's sources to objects in $work/<target>/.
c_objects() {  # target-directory
  local dir=$1 target c
  target=$(basename "$dir")
  mkdir -p "$work/$target"
  for c in "$dir"/*.c; do
    "$cc" "${c_flags[@]}" -I "$dir/include" -c "$c" -o "$work/$target/$(basename "$c" .c).o"
  done
}

# CKitsuneBuildInfo, stamped with KITSUNE_BUILD_COMMIT as Package.swift does (anything else reads
# "unknown"), as $work/CKitsuneBuildInfo/build_info.o.
embedded_build_info() {
  local commit=${KITSUNE_BUILD_COMMIT:-unknown}
  [[ "$commit" =~ ^[0-9a-f]{7,40}$ ]] || commit=unknown
  mkdir -p "$work/CKitsuneBuildInfo"
  "$cc" "${c_flags[@]}" -DKITSUNE_BUILD_COMMIT="\"$commit\"" -I "$root/Sources/CKitsuneBuildInfo/include" \
    -c "$root/Sources/CKitsuneBuildInfo/build_info.c" -o "$work/CKitsuneBuildInfo/build_info.o"
}

# CKitsuneSys, CKitsuneBuildInfo and the enforcer's Swift, as $work/enforcer.o and $work/<C target>/*.o.
embedded_enforcer_objects() {
  c_objects "$root/Sources/CKitsuneSys"
  embedded_build_info
  local enforcer_sources
  mapfile -t enforcer_sources < <(find -L "$root/Sources/KitsuneEnforcer" -name '*.swift' | sort)
  swift_object kitsune_enforcer "$work/enforcer.o" "${enforcer_sources[@]}" "$work/embedded_resources.swift"
}
