package storecache

import (
	"reflect"
	"testing"
	"time"

	"github.com/tiledesk-go/tiledesk"
)

// TestClonesShareNothing fills every field of the cached types (by reflection, so that a field
// added later is filled too) and checks that a clone shares no map, slice or pointer with the
// original, at any depth.
func TestClonesShareNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		v     any
		clone func(any) any
	}{
		{"Project", &tiledesk.Project{}, func(v any) any { return cloneProject(v.(*tiledesk.Project)) }},
		{"User", &tiledesk.User{}, func(v any) any { return cloneUser(v.(*tiledesk.User)) }},
		{"ProjectUser", &tiledesk.ProjectUser{}, func(v any) any { return cloneProjectUser(v.(*tiledesk.ProjectUser)) }},
	} {
		fill(reflect.ValueOf(c.v).Elem(), 0)
		cp := c.clone(c.v)
		if !reflect.DeepEqual(c.v, cp) {
			t.Fatalf("%s: the clone differs from the original", c.name)
		}
		shareNothing(t, c.name, reflect.ValueOf(c.v).Elem(), reflect.ValueOf(cp).Elem())
	}
}

var timeType = reflect.TypeOf(time.Time{})

// fill gives every exported field a non-zero value; JSON objects get nested containers.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		if depth > 3 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		if v.Type() == reflect.TypeOf(map[string]any{}) {
			v.Set(reflect.ValueOf(map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": "d"}}},
				"s": []string{"x"}}))
			return
		}
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// shareNothing fails when a and b hold the same map, slice or pointer anywhere.
func shareNothing(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Interface:
		if !a.IsNil() {
			shareNothing(t, path, a.Elem(), b.Elem())
		}
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s is shared between the cached entry and the copy handed out", path)
			return
		}
		switch a.Kind() {
		case reflect.Pointer:
			shareNothing(t, path, a.Elem(), b.Elem())
		case reflect.Slice:
			for i := 0; i < a.Len(); i++ {
				shareNothing(t, path+"[i]", a.Index(i), b.Index(i))
			}
		case reflect.Map:
			for _, k := range a.MapKeys() {
				shareNothing(t, path+"["+k.String()+"]", a.MapIndex(k), b.MapIndex(k))
			}
		}
	case reflect.Struct:
		if a.Type() == timeType {
			return
		}
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() {
				shareNothing(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	}
}
