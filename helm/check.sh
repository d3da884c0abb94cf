#!/usr/bin/env bash
# The chart's check (CTest `chart_check`, label chart): `helm lint` and `helm template` of helm/testfleet for each
# value set below, every rendered object checked strictly (helm/validate: Kubernetes and prometheus-operator objects
# decoded into their Go types, KEDA's against its CRDs' schemas), and every --option the chart passes listed by the
# binary's --help. Then that the validator refuses what it must (helm/validate/testdata, and an option no binary has).
#   helm/check.sh [BUILD_DIR]     BUILD_DIR: where testfleet-worker and testfleet-aggregator are (default: build)
# helm and the validator are built once with Go from the module proxy and kept in ~/.cache/testfleet; later runs
# take a few seconds. Needs Go (/usr/local/go or PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
chart=$here/testfleet
cache=${TESTFLEET_CACHE_DIR:-$HOME/.cache/testfleet}
helm_version=v3.22.0
keda_version=v2.21.0
kube=1.33.0  # the Kubernetes version to render for (a helm built by go install assumes 1.20)
export PATH=$PATH:/usr/local/go/bin GOTOOLCHAIN=local CGO_ENABLED=0
command -v go >/dev/null || { echo "chart check: Go is needed (install Go 1.26 at /usr/local/go)" >&2; exit 1; }

mkdir -p "$cache"
helm=$cache/helm-$helm_version/helm
if [ ! -x "$helm" ]; then
  echo "chart check: building helm $helm_version into $(dirname "$helm")"
  tmp=$(mktemp -d "$cache/helm-build.XXXXXX")
  GOBIN=$tmp GOFLAGS="-trimpath -buildvcs=false" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  mkdir -p "$(dirname "$helm")" && mv "$tmp/helm" "$helm" && rmdir "$tmp"
fi

# The validator, kept under the hash of its sources and the Go version that built it.
key=$(cat "$here"/validate/go.mod "$here"/validate/go.sum "$here"/validate/*.go <(go version) | sha256sum | cut -c1-16)
validate=$cache/helm-validate/validate-$key
if [ ! -x "$validate" ]; then
  echo "chart check: building helm/validate"
  mkdir -p "$(dirname "$validate")"
  rm -f "$(dirname "$validate")"/validate-*  # the builds of older sources
  (cd "$here/validate" && GOFLAGS="-mod=readonly -trimpath -buildvcs=false" go build -o "$validate.tmp" . && mv "$validate.tmp" "$validate")
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# KEDA's kinds are checked against its release's CRDs (the schemas an API server enforces), from its Go module.
keda=$(cd "$out" && go mod download -json "github.com/kedacore/keda/v2@$keda_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$keda/config/crd/bases" ] || { echo "chart check: KEDA $keda_version's CRDs could not be fetched" >&2; exit 1; }
crds=(-crd "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" -crd "$keda/config/crd/bases/keda.sh_triggerauthentications.yaml")
binaries=("${crds[@]}" -flags "worker=$build/worker/testfleet-worker" -flags "aggregator=$build/aggregator/testfleet-aggregator")
failed=0
check() {  # check NAME HELM_ARGS...: lint and render one value set, validate what it renders
  local name=$1
  shift
  if ! "$helm" lint --strict --quiet --kube-version "$kube" "$chart" "$@" >"$out/lint" 2>&1; then
    echo "chart check: helm lint ($name) failed:" >&2
    cat "$out/lint" >&2
    failed=1
    return
  fi
  if ! "$helm" template fleet "$chart" --namespace ci --kube-version "$kube" "$@" >"$out/$name.yaml"; then
    echo "chart check: helm template ($name) failed" >&2
    failed=1
    return
  fi
  echo -n "$name: "
  "$validate" "${binaries[@]}" <"$out/$name.yaml" || failed=1
}

check default
check production -f "$chart/values-production.yaml"
check privileged --set worker.sandboxMode=privileged \
  --set-json 'networkPolicy.jobEgress=[{"to":[{"ipBlock":{"cidr":"0.0.0.0/0","except":["10.0.0.0/8"]}}]}]' \
  --set-json 'kafka.properties={"security.protocol":"SSL","ssl.ca.location":"/etc/testfleet/kafka-tls/ca.crt"}' \
  --set kafka.tlsSecret=kafka-ca
check unsandboxed --set worker.sandboxMode=unsandboxed --set worker.autoscaling.enabled=false \
  --set metrics.serviceMonitor.enabled=false --set networkPolicy.enabled=false

# The check must be able to fail: each testdata file names the error it must cause.
for bad in "$here"/validate/testdata/*.yaml; do
  expect=$(sed -n 's/^# expect: //p' "$bad")
  if "$validate" "${crds[@]}" <"$bad" 2>"$out/err" >/dev/null || ! grep -qF "$expect" "$out/err"; then
    echo "chart check: the validator accepted $(basename "$bad") or did not say '$expect':" >&2
    cat "$out/err" >&2
    failed=1
  fi
done
"$helm" template fleet "$chart" --kube-version "$kube" --set 'worker.extraArgs={--no-such-option=1}' >"$out/bad.yaml"
if "$validate" "${binaries[@]}" <"$out/bad.yaml" 2>"$out/err" >/dev/null ||
   ! grep -qF -- "--no-such-option" "$out/err"; then
  echo "chart check: an option testfleet-worker does not have was not refused" >&2
  failed=1
fi
[ "$failed" = 0 ] && echo "chart check: ok"
exit "$failed"
