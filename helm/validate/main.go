// validate reads the documents `helm template` printed and checks each one strictly: Kubernetes and
// prometheus-operator objects are decoded into their Go types, KEDA's against the openAPIV3Schema of KEDA's own CRDs
// (what an API server checks custom resources against; KEDA's Go module would bring controller-runtime and
// client-go, doubling the cold build). An unknown or misspelt field, a field of the wrong type, a duplicate key or a
// kind this chart does not make fails the check. With -flags NAME=BINARY it also checks that every --option the
// chart passes to a container NAME is one that BINARY's --help lists.
//
//	helm template t helm/testfleet | validate -crd keda.sh_scaledobjects.yaml -flags worker=build/worker/testfleet-worker
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The built-in and prometheus-operator kinds the chart makes, by "apiVersion/kind", and the type each must decode
// into (KEDA's come from -crd files).
var kinds = map[string]func() any{
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"apps/v1/StatefulSet":                     func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
}

type flagList map[string]string

func (f flagList) String() string { return fmt.Sprint(map[string]string(f)) }
func (f flagList) Set(v string) error {
	name, binary, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want CONTAINER=BINARY")
	}
	f[name] = binary
	return nil
}

// One rendered document, decoded.
type document struct {
	source string // "# Source:" line of helm template, to say where a problem is
	kind   string
	name   string
	object any
}

func main() {
	binaries := flagList{}
	var crdFiles crdList
	flag.Var(binaries, "flags", "CONTAINER=BINARY: the options passed to containers named CONTAINER must be in BINARY --help")
	flag.Var(&crdFiles, "crd", "a CustomResourceDefinition file whose kinds are checked against its schema (repeatable)")
	flag.Parse()
	for _, file := range crdFiles {
		if err := loadCRD(file); err != nil {
			fmt.Fprintln(os.Stderr, "validate:", err)
			os.Exit(2)
		}
	}
	docs, problems := decodeAll(os.Stdin)
	problems = append(problems, checkFlags(docs, binaries)...)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "validate:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	counts := map[string]int{}
	for _, d := range docs {
		counts[d.kind]++
	}
	var seen []string
	for k, n := range counts {
		seen = append(seen, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(seen)
	fmt.Printf("validate: %d objects valid (%s)\n", len(docs), strings.Join(seen, ", "))
}

func decodeAll(in io.Reader) ([]document, []string) {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(in))
	var docs []document
	var problems []string
	for {
		raw, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return docs, append(problems, err.Error())
		}
		d, err := decode(raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d.source, err))
			continue
		}
		if d.object != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 && len(problems) == 0 {
		problems = append(problems, "no objects in the input")
	}
	return docs, problems
}

func decode(raw []byte) (document, error) {
	d := document{source: sourceOf(raw)}
	j, err := yaml.YAMLToJSONStrict(raw) // refuses duplicate keys
	if err != nil {
		return d, err
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return d, nil // a document of comments only
	}
	var head metav1.TypeMeta
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &head); err != nil {
		return d, err
	}
	d.kind = head.APIVersion + "/" + head.Kind
	if schema, ok := crdSchemas[d.kind]; ok {
		return d, validateCustom(&d, j, schema)
	}
	make, ok := kinds[d.kind]
	if !ok {
		return d, fmt.Errorf("%s is not a kind the validator knows (add its type to helm/validate)", d.kind)
	}
	d.object = make()
	// Case-sensitive, unknown and duplicate fields are errors: what the API server's strict field validation does.
	strict, err := sigsjson.UnmarshalStrict(j, d.object)
	if err != nil {
		return d, fmt.Errorf("%s: %v", d.kind, err)
	}
	if len(strict) > 0 {
		return d, fmt.Errorf("%s: %v", d.kind, errors.Join(strict...))
	}
	if meta, ok := d.object.(metav1.Object); ok {
		d.name = meta.GetName()
	}
	if d.name == "" {
		return d, fmt.Errorf("%s has no metadata.name", d.kind)
	}
	return d, nil
}

func sourceOf(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\n") {
		if s, ok := strings.CutPrefix(line, "# Source: "); ok {
			return s
		}
	}
	return "(document without a # Source: line)"
}

// podSpecOf returns the pod template of the workload kinds.
func podSpecOf(object any) *corev1.PodSpec {
	switch o := object.(type) {
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	}
	return nil
}

var optionName = regexp.MustCompile(`^(--[a-z0-9][a-z0-9-]*)`)

func checkFlags(docs []document, binaries flagList) []string {
	var problems []string
	helps := map[string]string{}
	checked := map[string]bool{}
	for _, d := range docs {
		spec := podSpecOf(d.object)
		if spec == nil {
			continue
		}
		for _, c := range spec.Containers {
			binary, ok := binaries[c.Name]
			if !ok {
				continue
			}
			checked[c.Name] = true
			if _, ok := helps[binary]; !ok {
				out, err := exec.Command(binary, "--help").Output()
				if err != nil {
					return append(problems, fmt.Sprintf("%s --help: %v", binary, err))
				}
				helps[binary] = string(out)
			}
			for _, arg := range append(append([]string{}, c.Command...), c.Args...) {
				m := optionName.FindStringSubmatch(arg)
				if m == nil {
					continue
				}
				listed := regexp.MustCompile(`(?m)(^|[ ,])` + regexp.QuoteMeta(m[1]) + `([ =]|$)`)
				if !listed.MatchString(helps[binary]) {
					problems = append(problems, fmt.Sprintf("%s %s: container %q is passed %s, which `%s --help` does not list",
						d.kind, d.name, c.Name, m[1], binary))
				}
			}
		}
	}
	for name := range binaries {
		if !checked[name] {
			problems = append(problems, fmt.Sprintf("no container named %q was rendered (-flags %s=…)", name, name))
		}
	}
	return problems
}
