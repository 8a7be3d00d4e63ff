// engine-types writes the JSON field tables of the engine's API types, as Go's encoding/json
// sees them, for paddock-authz's reading of request bodies (plugins/module_utils/_gojson.py).
//
// It runs on a developer's machine against Debian's docker.io source, the engine the hosts
// run, never in CI:
//
//	apt-get install golang-go golang-github-docker-docker-dev
//	scripts/engine-types/generate.py    # writes plugins/module_utils/_engine_types.py
//
// Each struct's fields are the ones encoding/json decodes into: exported or embedded, named
// by their tag or Go name, embedded structs' fields promoted, and a name that two fields at
// the same depth share dropped unless exactly one of them is tagged (encoding/json's rules,
// written again here from its documentation; checked below against what json.Marshal
// writes for a value whose every field is set). A type with its own UnmarshalJSON or
// UnmarshalText is named, not described: the reader in Python knows each one.
package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/runconfig"
)

// The routes whose bodies paddock-authz reads, and the type each body is decoded into
// (api/server/router/*: json.NewDecoder(r.Body).Decode(&value)).
var roots = map[string]reflect.Type{
	"container_create": reflect.TypeOf(runconfig.ContainerConfigWrapper{}),
	"container_update": reflect.TypeOf(container.UpdateConfig{}),
	"exec_create":      reflect.TypeOf(types.ExecConfig{}),
	"network_create":   reflect.TypeOf(types.NetworkCreateRequest{}),
	"volume_create":    reflect.TypeOf(volume.VolumeCreateBody{}),
	"secret_create":    reflect.TypeOf(swarm.SecretSpec{}),
	"secret_update":    reflect.TypeOf(swarm.SecretSpec{}),
	"config_create":    reflect.TypeOf(swarm.ConfigSpec{}),
	"config_update":    reflect.TypeOf(swarm.ConfigSpec{}),
	"service_create":   reflect.TypeOf(swarm.ServiceSpec{}),
	"service_update":   reflect.TypeOf(swarm.ServiceSpec{}),
}

var (
	unmarshaler     = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

type field struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Via    []string `json:"via,omitempty"` // the embedded fields it is promoted through
	tagged bool
	index  []int
	goType reflect.Type
}

// fields: what encoding/json decodes into for struct t.
func fields(t reflect.Type) []field {
	var found []field
	type level struct {
		typ   reflect.Type
		index []int
		via   []string
	}
	next := []level{{typ: t}}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current := next
		next = nil
		count := map[reflect.Type]int{}
		for _, l := range current {
			count[l.typ]++
		}
		for _, l := range current {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := 0; i < l.typ.NumField(); i++ {
				sf := l.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, options, _ := strings.Cut(tag, ",")
				if strings.Contains(","+options+",", ",string,") {
					fail("%s.%s: the ,string option is not read by paddock-authz", l.typ, sf.Name)
				}
				index := append(append([]int{}, l.index...), i)
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{Name: name, tagged: name != "", index: index, goType: sf.Type,
						Via: append([]string{}, l.via...)}
					if f.Name == "" {
						f.Name = sf.Name
					}
					found = append(found, f)
					if count[l.typ] > 1 { // two embeddings of one type at one depth: both go
						found = append(found, f)
					}
					continue
				}
				next = append(next, level{typ: ft, index: index, via: append(append([]string{}, l.via...), sf.Name)})
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if len(a.index) != len(b.index) {
			return len(a.index) < len(b.index)
		}
		return a.tagged && !b.tagged
	})
	var out []field
	for i := 0; i < len(found); {
		j := i + 1
		for j < len(found) && found[j].Name == found[i].Name {
			j++
		}
		group := found[i:j]
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type description struct {
	Kind   string  `json:"kind"`
	Bits   int     `json:"bits,omitempty"`
	Elem   string  `json:"elem,omitempty"`
	Key    string  `json:"key,omitempty"`
	Len    int     `json:"len,omitempty"`
	Fields []field `json:"fields,omitempty"`
}

var described = map[string]*description{}

// describe records t (and what it holds) and returns its name in the tables.
func describe(t reflect.Type) string {
	name := t.String()
	if _, done := described[name]; done {
		return name
	}
	d := &description{}
	described[name] = d
	switch {
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshaler):
		d.Kind = "custom"
		return name
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshaler):
		d.Kind = "text"
		return name
	}
	switch t.Kind() {
	case reflect.Bool:
		d.Kind = "bool"
	case reflect.String:
		d.Kind = "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.Kind, d.Bits = "int", t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		d.Kind, d.Bits = "uint", t.Bits()
	case reflect.Float32, reflect.Float64:
		d.Kind, d.Bits = "float", t.Bits()
	case reflect.Interface:
		if t.NumMethod() != 0 {
			fail("%s: an interface with methods cannot be decoded into", t)
		}
		d.Kind = "any"
	case reflect.Pointer:
		d.Kind, d.Elem = "pointer", describe(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(unmarshaler) &&
			!reflect.PointerTo(t.Elem()).Implements(textUnmarshaler) {
			d.Kind = "bytes" // base64 in a JSON string
		} else {
			d.Kind, d.Elem = "slice", describe(t.Elem())
		}
	case reflect.Array:
		d.Kind, d.Len, d.Elem = "array", t.Len(), describe(t.Elem())
	case reflect.Map:
		d.Kind, d.Key, d.Elem = "map", describe(t.Key()), describe(t.Elem())
	case reflect.Struct:
		d.Kind = "struct"
		for _, f := range fields(t) {
			f.Type = describe(f.goType)
			d.Fields = append(d.Fields, f)
		}
		check(t, d.Fields)
	default:
		fail("%s: kind %s is not decoded by paddock-authz", t, t.Kind())
	}
	return name
}

// check: the fields found are the keys json.Marshal writes for a value with every field set.
func check(t reflect.Type, found []field) {
	value := reflect.New(t).Elem()
	fill(value, 3)
	data, err := json.Marshal(value.Interface())
	if err != nil {
		return // a type that does not marshal whole (a custom marshaller's rules): trust the rules above
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) != nil {
		return
	}
	names := map[string]bool{}
	for _, f := range found {
		names[f.Name] = true
	}
	for key := range keys {
		if !names[key] {
			fail("%s: json.Marshal writes %q, which the field rules did not find", t, key)
		}
	}
}

func fill(v reflect.Value, depth int) {
	if depth == 0 || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth-1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), depth)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "engine-types: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	out := map[string]string{}
	for route, t := range roots {
		out[route] = describe(t)
	}
	tables := map[string]interface{}{"roots": out, "types": described, "go": runtime.Version()}
	data, err := json.MarshalIndent(tables, "", " ")
	if err != nil {
		fail("%v", err)
	}
	os.Stdout.Write(data)
}
