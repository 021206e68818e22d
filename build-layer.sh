#!/usr/bin/env bash
# Build the fastrt Lambda layer: dist/fastrt-python<ver>-<arch>.zip
#
#   ./build-layer.sh [--python 3.12|3.13] [--arch x86_64|arm64] [--docker|--local]
#                    [--bundle-python] [--dist DIR]
#
# --docker  (default when a Docker engine answers) builds inside AWS's Lambda Python image on
#           Amazon Linux 2023 (layer/Dockerfile); arm64 through buildx --platform linux/arm64.
# --local   (default otherwise) builds with a local CPython of the chosen version (3.11 accepted
#           for tests) in a pinned build venv under build/layer/; native architecture only.
# Both run the same build step, layer/build_layer.py, which also checks the glibc symbol
# versions (<= 2.34), the file list and the size budget, and prints a size summary.
# --bundle-python (Docker only) adds a trimmed interpreter from the Lambda image, for provided.al2023.
set -euo pipefail

repo=$(cd "$(dirname "$0")" && pwd)
python_version=3.12
arch=$(uname -m)
mode=""
bundle=0
dist=$repo/dist

# The Lambda base image per Python version, pinned by tag (Amazon Linux 2023, glibc 2.34).
docker_base_image() {
    case $1 in
        3.12) echo "public.ecr.aws/lambda/python:3.12.2026.06.02.15" ;;
        3.13) echo "public.ecr.aws/lambda/python:3.13.2026.06.05.14" ;;
        *) die "--docker builds for Python 3.12 or 3.13 (the Amazon Linux 2023 runtimes), not $1" ;;
    esac
}

usage() { sed -n '2,14s/^# \{0,1\}//p' "$0"; }
die() { echo "build-layer.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --python) python_version=${2:?--python needs a version}; shift ;;
        --arch) arch=${2:?--arch needs x86_64 or arm64}; shift ;;
        --docker|--local) mode=${1#--} ;;
        --bundle-python) bundle=1 ;;
        --dist) dist=${2:?--dist needs a directory}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done

case $arch in
    x86_64|amd64) arch=x86_64 ;;
    arm64|aarch64) arch=arm64 ;;
    *) die "--arch must be x86_64 or arm64, not $arch" ;;
esac
case $python_version in
    3.11|3.12|3.13) ;;
    *) die "--python must be 3.12 or 3.13 (or 3.11 for local tests), not $python_version" ;;
esac
if [ -z "$mode" ]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then mode=docker; else mode=local; fi
fi
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
zip=$dist/fastrt-python$python_version-$arch.zip

build_docker() {
    local platform=linux/amd64 bundle_from=""
    [ "$arch" = arm64 ] && platform=linux/arm64
    [ "$bundle" = 1 ] && bundle_from=/var/lang
    docker buildx build \
        --file "$repo/layer/Dockerfile" \
        --platform "$platform" \
        --build-arg "BASE_IMAGE=$(docker_base_image "$python_version")" \
        --build-arg "PYTHON_VERSION=$python_version" \
        --build-arg "ARCH=$arch" \
        --build-arg "BUNDLE_FROM=$bundle_from" \
        --progress plain \
        --output "type=local,dest=$dist" \
        "$repo"
}

# A local CPython of the requested version: $FASTRT_BUILD_PYTHON, pyenv's, or pythonX.Y / python3 on PATH.
find_local_python() {
    local candidates=() candidate
    [ -n "${FASTRT_BUILD_PYTHON:-}" ] && candidates+=("$FASTRT_BUILD_PYTHON")
    if command -v pyenv >/dev/null 2>&1 || [ -d "$HOME/.pyenv" ]; then
        local pyenv_root
        pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
        for candidate in "$pyenv_root/versions/$python_version".*/bin/"python$python_version"; do
            [ -x "$candidate" ] && candidates+=("$candidate")
        done
    fi
    candidates+=("python$python_version" python3)
    for candidate in "${candidates[@]}"; do
        if [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$python_version" ]; then
            command -v "$candidate"
            return 0
        fi
    done
    die "no local Python $python_version found (tried ${candidates[*]}); set FASTRT_BUILD_PYTHON"
}

# The build venv (pinned Cython + setuptools, hash-checked), reused while its requirements are unchanged.
build_venv() {
    local base=$1 venv=$repo/build/layer/venv-$python_version
    local requirements=$repo/layer/requirements-build.txt
    if ! cmp -s "$requirements" "$venv/requirements-build.txt" 2>/dev/null; then
        local fresh
        mkdir -p "$repo/build/layer"
        fresh=$(mktemp -d "$repo/build/layer/venv-$python_version.XXXXXX")
        echo "creating the build venv for Python $python_version ..." >&2
        "$base" -m venv "$fresh" >&2
        "$fresh/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
            -r "$requirements" >&2
        cp "$requirements" "$fresh/requirements-build.txt"
        rm -rf "$venv"
        mv "$fresh" "$venv"
    fi
    echo "$venv/bin/python"
}

build_local() {
    [ "$bundle" = 1 ] && die "--bundle-python needs --docker: the interpreter must come from AWS's Lambda image (Amazon Linux 2023), not this machine"
    local python
    python=$(build_venv "$(find_local_python)")
    "$python" "$repo/layer/build_layer.py" --python-version "$python_version" --arch "$arch" \
        --out "$dist" --wheel-cache "$repo/build/layer/wheels"
}

echo "building $zip ($mode build, Python $python_version, $arch)"
if [ "$mode" = docker ]; then
    build_docker
    summary_python=$(command -v python3 || true)
    [ -n "$summary_python" ] && "$summary_python" "$repo/layer/build_layer.py" --summarize "$zip" --python-version "$python_version"
else
    build_local
fi
[ -f "$zip" ] || die "the build did not produce $zip"
echo "wrote $zip ($(wc -c <"$zip" | tr -d ' ') bytes)"
