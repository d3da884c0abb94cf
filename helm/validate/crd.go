package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

type crdList []string

func (c *crdList) String() string     { return fmt.Sprint([]string(*c)) }
func (c *crdList) Set(v string) error { *c = append(*c, v); return nil }

// The schemas of custom kinds, by "group/version/kind", from the -crd files.
var crdSchemas = map[string]*jsonschema.Schema{}

func loadCRD(file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	j, err := yaml.YAMLToJSONStrict(raw)
	if err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &crd); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	for _, version := range crd.Spec.Versions {
		if version.Schema == nil || version.Schema.OpenAPIV3Schema == nil {
			return fmt.Errorf("%s: version %s has no schema", file, version.Name)
		}
		kind := crd.Spec.Group + "/" + version.Name + "/" + crd.Spec.Names.Kind
		schemaJSON, err := json.Marshal(version.Schema.OpenAPIV3Schema)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			return err
		}
		closeObjects(doc)
		compiler := jsonschema.NewCompiler()
		if err := compiler.AddResource(kind+".json", doc); err != nil {
			return err
		}
		if crdSchemas[kind], err = compiler.Compile(kind + ".json"); err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
	}
	return nil
}

// closeObjects refuses unknown fields the way the API server's strict field validation does: every object schema
// that lists its properties and does not keep unknown fields (x-kubernetes-preserve-unknown-fields) allows no others.
func closeObjects(node any) {
	switch n := node.(type) {
	case map[string]any:
		_, listed := n["properties"]
		_, open := n["additionalProperties"]
		if listed && !open && n["x-kubernetes-preserve-unknown-fields"] != true {
			n["additionalProperties"] = false
		}
		for _, child := range n {
			closeObjects(child)
		}
	case []any:
		for _, child := range n {
			closeObjects(child)
		}
	}
}

func validateCustom(d *document, j []byte, schema *jsonschema.Schema) error {
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	if err := schema.Validate(instance); err != nil {
		var invalid *jsonschema.ValidationError
		if errors.As(err, &invalid) {
			return fmt.Errorf("%s: %v", d.kind, invalid)
		}
		return err
	}
	var head struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &head); err != nil || head.Metadata.Name == "" {
		return fmt.Errorf("%s has no metadata.name", d.kind)
	}
	d.name, d.object = head.Metadata.Name, instance
	return nil
}
