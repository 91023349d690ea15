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
	// kindRows is a list of structs (a correction request's items): a
	// fieldset of rows, each the struct's fields, added and removed by
	// submit buttons that re-render the form (no script).
	kindRows = "rows"
)

// maxRows is the most rows a list of structs shows (a correction request
// names at most 20 items).
const maxRows = 20

// The form's row buttons: their names, posted by the button pressed.
const (
	addRowField    = "_add"
	removeRowField = "_remove"
	// rowsSuffix names the hidden input holding a list's number of rows.
	rowsSuffix = "._rows"
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
	// Autofocus puts the focus on the field when the page opens (the first
	// field of a row just added).
	Autofocus bool
	// Rows are a list's rows (kindRows), AddText and the item type what
	// makes a new one.
	Rows    []formRow
	AddText string
	item    reflect.Type
	scope   string
	lang    string
}

// formRow is one row of a list of structs: its fields, named
// path.index.field, and the button that removes it.
type formRow struct {
	ID, Legend         string
	Remove, RemoveText string
	// Removable is false for a list's only row.
	Removable bool
	Fields    []formField
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
// structs nest under their name, and a list of structs is a field of rows.
func fieldsOf(t reflect.Type, scope, lang string) []formField {
	t = structType(t)
	if t == nil {
		return nil
	}
	var out []formField
	walkFields(t, "", func(path string, ft reflect.Type) {
		if f, ok := fieldOf(scope, lang, path, path, ft); ok {
			out = append(out, f)
		}
	})
	return out
}

// structType is t, or what it points to, when it is a struct; else nil.
func structType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// fieldOf is the form field of one JSON field at path; labelPath is the
// path its label is kept under (a row's field without its row's index).
func fieldOf(scope, lang, path, labelPath string, ft reflect.Type) (formField, bool) {
	l := labelOf(scope, labelPath)
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
	case ft.Kind() == reflect.Slice && structType(ft.Elem()) != nil:
		f.Kind, f.item, f.scope, f.lang = kindRows, structType(ft.Elem()), scope, lang
		f.AddText = ui["addrow"].in(lang)
		f.setRows(1)
	case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
		f.Kind = kindNumber
	case ft.Kind() == reflect.String:
		f.Kind = kindText
	default:
		return formField{}, false // a type no clerk types (none today)
	}
	return f, true
}

// setRows makes a list's n empty rows.
func (f *formField) setRows(n int) {
	f.Rows = make([]formRow, n)
	for i := range n {
		f.Rows[i] = f.row(i)
	}
	f.removable()
}

// row is the list's empty row i: the item type's fields, one level deep
// (a list inside a row is not asked for).
func (f *formField) row(i int) formRow {
	n := strconv.Itoa(i + 1)
	r := formRow{ID: "f-" + strings.ReplaceAll(f.Path, ".", "-") + "-" + strconv.Itoa(i), Remove: f.Path + "." + strconv.Itoa(i)}
	r.Legend = strings.ReplaceAll(ui["rowlegend"].in(f.lang), "{n}", n)
	r.RemoveText = strings.ReplaceAll(ui["removerow"].in(f.lang), "{n}", n)
	prefix := f.Path + "." + strconv.Itoa(i) + "."
	walkFields(f.item, "", func(sub string, ft reflect.Type) {
		if c, ok := fieldOf(f.scope, f.lang, prefix+sub, f.Path+"."+sub, ft); ok && c.Kind != kindRows {
			r.Fields = append(r.Fields, c)
		}
	})
	return r
}

// MoreRows is whether a list may have one more row.
func (f formField) MoreRows() bool { return len(f.Rows) < maxRows }

func (f *formField) removable() {
	for i := range f.Rows {
		f.Rows[i].Removable = len(f.Rows) > 1
	}
}

// editRows does what a row button asked (add a row to a list, remove one),
// on fields filled from the form; false when no row button was pressed, so
// the form is to be sent.
func editRows(fields []formField, form url.Values) bool {
	if add := form.Get(addRowField); add != "" {
		if f := findField(fields, add); f != nil && f.Kind == kindRows && len(f.Rows) < maxRows {
			r := f.row(len(f.Rows))
			if len(r.Fields) > 0 {
				r.Fields[0].Autofocus = true
			}
			f.Rows = append(f.Rows, r)
			f.removable()
		}
		return true
	}
	if rm := form.Get(removeRowField); rm != "" {
		path, index, _ := cutLast(rm, ".")
		i, err := strconv.Atoi(index)
		if f := findField(fields, path); err == nil && f != nil && f.Kind == kindRows && i >= 0 && i < len(f.Rows) && len(f.Rows) > 1 {
			kept := append(append([]formRow(nil), f.Rows[:i]...), f.Rows[i+1:]...)
			// The rows after it move up: renamed, keeping what was typed.
			f.setRows(len(kept))
			for j := range f.Rows {
				for k := range f.Rows[j].Fields {
					g, old := &f.Rows[j].Fields[k], kept[j].Fields[k]
					g.Value, g.Checked = old.Value, old.Checked
					for o := range g.Options {
						g.Options[o].Selected = g.Options[o].Value == g.Value
					}
				}
			}
		}
		return true
	}
	return false
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// findField is the field at path, in a list's rows too.
func findField(fields []formField, path string) *formField {
	for i := range fields {
		if fields[i].Path == path {
			return &fields[i]
		}
		for j := range fields[i].Rows {
			if f := findField(fields[i].Rows[j].Fields, path); f != nil {
				return f
			}
		}
	}
	return nil
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

// fill puts what was typed back into the fields: a list gets as many rows
// as the form posted.
func fill(fields []formField, form url.Values) {
	for i := range fields {
		f := &fields[i]
		switch f.Kind {
		case kindCheckbox:
			f.Checked = form.Get(f.Path) != ""
		case kindRows:
			if n, err := strconv.Atoi(form.Get(f.Path + rowsSuffix)); err == nil && n >= 1 && n <= maxRows {
				f.setRows(n)
			}
			for j := range f.Rows {
				fill(f.Rows[j].Fields, form)
			}
		default:
			f.Value = form.Get(f.Path)
		}
		for j := range f.Options {
			f.Options[j].Selected = f.Options[j].Value == f.Value
		}
	}
}

// body makes the JSON request of the form's fields (filled: a list's rows
// are those it holds).
func body(fields []formField, form url.Values) map[string]any {
	return bodyAt(fields, form, "")
}

// bodyAt is body with prefix cut off the fields' paths (a row's fields).
func bodyAt(fields []formField, form url.Values, prefix string) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		raw := strings.TrimSpace(form.Get(f.Path))
		var v any
		switch f.Kind {
		case kindCheckbox:
			v = raw != ""
		case kindRows:
			items := make([]any, 0, len(f.Rows))
			for _, r := range f.Rows {
				items = append(items, bodyAt(r.Fields, form, r.Remove+"."))
			}
			v = items
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
		setPath(out, strings.Split(strings.TrimPrefix(f.Path, prefix), "."), v)
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

// placeError puts an error of the gateway beside the field it is about:
// the field the API names (a row's, as items.1.serial), else the first
// whose JSON path ends with one its code is about; it returns false when no
// field of the form fits.
func placeError(fields []formField, code, field, msg string) bool {
	if field != "" {
		if f := findField(fields, field); f != nil {
			f.Error = msg
			return true
		}
	}
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
