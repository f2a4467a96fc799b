# Sourced by system-deps.sh and demo-deps.sh: collect the Debian packages a check finds missing
# in `need`, then install them as root, or say what to install and fail.
need=()

# (No `grep -q` below: with pipefail, its early exit would fail ldconfig with SIGPIPE.)
# need_library SONAME PACKAGE...: the packages, unless the dynamic linker knows SONAME.
need_library() {
  ldconfig -p 2>/dev/null | grep "$1" >/dev/null || need+=("${@:2}")
}

# install_needed MISSING INSTALLING: as root, install `need` (saying INSTALLING: list); as
# another user, print MISSING: list and the command to run, and exit 1.
install_needed() {
  [ ${#need[@]} -eq 0 ] && exit 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$1: ${need[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "$2: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}
