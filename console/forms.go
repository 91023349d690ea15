package console

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// Field kinds of a form.
const (
	kindText     = "text"
	kindCheckbox = "checkbox"
	kindSelect   = "select"
	kindList     = "list"
	kindNumber   = "number"
)

// formField is one input of a form made from a request type.
type formField struct {
	// Path is the field's JSON path (application.name); it is the input's
	// name, so the form posts back to the same shape.
	Path  string
	ID    string
	Kind  string
	Label string
	Hint  string
	// Options are a select's choices.
	Options []formOption
	Value   string
	Checked bool
	Error   string
}

type formOption struct {
	Value, Label string
	Selected     bool
}

// skipped are fields a form never asks for: the clerk is the session's,
// set by the gateway, and anything about a PIN is typed on the touch panel.
func skipped(name string) bool {
	return name == "clerk" || strings.Contains(strings.ToLower(name), "pin")
}

// fieldsOf lists the form fields of a request type by reflection over its
// JSON fields: embedded structs are flattened as encoding/json does, other
// structs nest under their name.
func fieldsOf(t reflect.Type, scope, lang string) []formField {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []formField
	walkFields(t, "", func(path string, ft reflect.Type) {
		l := labelOf(scope, path)
		f := formField{Path: path, ID: "f-" + strings.ReplaceAll(path, ".", "-"), Label: l.in(lang), Hint: l.hint.in(lang)}
		switch {
		case len(l.options) > 0:
			f.Kind = kindSelect
			for _, o := range l.options {
				f.Options = append(f.Options, formOption{Value: o.value, Label: o.label.in(lang)})
			}
		case ft.Kind() == reflect.Bool:
			f.Kind = kindCheckbox
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			f.Kind = kindList
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
			f.Kind = kindNumber
		case ft.Kind() == reflect.String:
			f.Kind = kindText
		default:
			return // a type no clerk types (none today)
		}
		out = append(out, f)
	})
	return out
}

func walkFields(t reflect.Type, prefix string, visit func(path string, t reflect.Type)) {
	for i := range t.NumField() {
		sf := t.Field(i)
		// encoding/json promotes an embedded struct's fields even when its
		// type is unexported.
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := sf.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			walkFields(ft, prefix, visit)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if skipped(name) {
			continue
		}
		if ft.Kind() == reflect.Struct {
			walkFields(ft, prefix+name+".", visit)
			continue
		}
		visit(prefix+name, ft)
	}
}

// fill puts what was typed back into the fields.
func fill(fields []formField, form url.Values) {
	for i := range fields {
		f := &fields[i]
		switch f.Kind {
		case kindCheckbox:
			f.Checked = form.Get(f.Path) != ""
		default:
			f.Value = form.Get(f.Path)
		}
		for j := range f.Options {
			f.Options[j].Selected = f.Options[j].Value == f.Value
		}
	}
}

// body makes the JSON request of the form's fields.
func body(fields []formField, form url.Values) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		raw := strings.TrimSpace(form.Get(f.Path))
		var v any
		switch f.Kind {
		case kindCheckbox:
			v = raw != ""
		case kindList:
			items := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == '、' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
			if len(items) == 0 {
				continue
			}
			v = items
		case kindNumber:
			if raw == "" {
				continue
			}
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				v = raw // the gateway answers that it cannot read it
			} else {
				v = n
			}
		default:
			v = raw
		}
		setPath(out, strings.Split(f.Path, "."), v)
	}
	return out
}

func setPath(m map[string]any, path []string, v any) {
	for len(path) > 1 {
		next, ok := m[path[0]].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[path[0]] = next
		}
		m, path = next, path[1:]
	}
	m[path[0]] = v
}

// placeError puts an error of the gateway beside the field its code is
// about; it returns false when no field of the form fits.
func placeError(fields []formField, code, msg string) bool {
	for _, suffix := range errorFields[code] {
		for i := range fields {
			if fields[i].Path == suffix || strings.HasSuffix(fields[i].Path, "."+suffix) {
				fields[i].Error = msg
				return true
			}
		}
	}
	return false
}
