package dynamostore

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AttributeValue is one DynamoDB value in its JSON wire form, with exactly
// one member set: {"S": "…"}, {"N": "12"}, {"BOOL": true}, {"NULL": true},
// {"L": […]} or {"M": {…}}. Those are all the store writes; other types
// (sets, binary) are not read into Go values.
type AttributeValue struct {
	S    *string `json:"S,omitempty"`
	N    *string `json:"N,omitempty"` // a number is sent as its decimal string
	BOOL *bool   `json:"BOOL,omitempty"`
	NULL bool    `json:"NULL,omitempty"`
	// omitzero, not omitempty: an empty list or map is a value ({"L": []}).
	L []AttributeValue `json:"L,omitzero"`
	M Item             `json:"M,omitzero"`
}

// Item is a DynamoDB item, or a key: attribute name to value.
type Item map[string]AttributeValue

func str(s string) AttributeValue    { return AttributeValue{S: &s} }
func numStr(n string) AttributeValue { return AttributeValue{N: &n} }
func num(n int64) AttributeValue     { return numStr(strconv.FormatInt(n, 10)) }

// Items use the json tags of the state package, so the console shows the
// same names as the logs; times are UTC RFC 3339 strings. The encoding below
// writes and reads exactly what the SDK's attributevalue package did so
// (TagKey "json"), so that items written before and after read the same:
//   - a field is named by its json tag, else by its Go name; "-" skips it;
//   - omitempty leaves out false, 0, "", and nil pointers, slices and maps,
//     but not an empty non-nil slice ({"L": []}) nor a struct or a time
//     (omitzero is not honoured, as the SDK did not: a zero time is written
//     as "0001-01-01T00:00:00Z");
//   - without omitempty a nil pointer, slice or map is {"NULL": true};
//   - numbers are written as strconv formats them ('f', shortest, for
//     floats); NULL reads back as the zero value.

var timeType = reflect.TypeFor[time.Time]()

// marshalItem encodes the struct v as an item.
func marshalItem(v any) (Item, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("encode %T: not a struct", v)
	}
	av, _, err := encode(rv, false)
	if err != nil {
		return nil, err
	}
	return av.M, nil
}

// encode returns v's attribute value, or omit when omitEmpty leaves it out.
func encode(v reflect.Value, omitEmpty bool) (av AttributeValue, omit bool, err error) {
	if isEmpty(v) {
		if omitEmpty {
			return AttributeValue{}, true, nil
		}
		if isNil(v) {
			return AttributeValue{NULL: true}, false, nil
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface: // not nil: isEmpty saw to that
		return encode(v.Elem(), false)
	case reflect.Struct:
		if v.Type().ConvertibleTo(timeType) {
			t := v.Convert(timeType).Interface().(time.Time)
			return str(t.UTC().Format(time.RFC3339Nano)), false, nil
		}
		return encodeStruct(v)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return AttributeValue{}, false, fmt.Errorf("encode %s: map keys must be strings", v.Type())
		}
		m := make(Item, v.Len())
		for iter := v.MapRange(); iter.Next(); {
			if m[iter.Key().String()], _, err = encode(iter.Value(), false); err != nil {
				return AttributeValue{}, false, fmt.Errorf("%s: %w", iter.Key().String(), err)
			}
		}
		return AttributeValue{M: m}, false, nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return AttributeValue{}, false, fmt.Errorf("encode %s: binary values are not supported", v.Type())
		}
		l := make([]AttributeValue, v.Len())
		for i := range l {
			if l[i], _, err = encode(v.Index(i), false); err != nil {
				return AttributeValue{}, false, fmt.Errorf("%d: %w", i, err)
			}
		}
		return AttributeValue{L: l}, false, nil
	case reflect.Bool:
		b := v.Bool()
		return AttributeValue{BOOL: &b}, false, nil
	case reflect.String:
		return str(v.String()), false, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return num(v.Int()), false, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return numStr(strconv.FormatUint(v.Uint(), 10)), false, nil
	case reflect.Float32, reflect.Float64:
		return numStr(strconv.FormatFloat(v.Float(), 'f', -1, v.Type().Bits())), false, nil
	}
	return AttributeValue{}, false, fmt.Errorf("encode %s: unsupported type", v.Type())
}

func encodeStruct(v reflect.Value) (AttributeValue, bool, error) {
	fields, err := structFields(v.Type())
	if err != nil {
		return AttributeValue{}, false, err
	}
	m := make(Item, len(fields))
	for _, f := range fields {
		av, omit, err := encode(v.Field(f.index), f.omitEmpty)
		if err != nil {
			return AttributeValue{}, false, fmt.Errorf("%s: %w", f.name, err)
		}
		if !omit {
			m[f.name] = av
		}
	}
	return AttributeValue{M: m}, false, nil
}

// isEmpty is what omitempty leaves out.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.String:
		return v.Len() == 0
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	}
	return false
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// unmarshalItem decodes item into the struct out points to. Attributes
// with no field of that name are ignored.
func unmarshalItem(item Item, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode into %T: not a pointer to a struct", out)
	}
	return decodeStruct(item, v.Elem())
}

// decode sets v, which is settable, from av.
func decode(av AttributeValue, v reflect.Value) error {
	if av.NULL {
		v.SetZero()
		return nil
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decode(av, v.Elem())
	}
	switch {
	case av.S != nil:
		switch {
		case v.Type().ConvertibleTo(timeType):
			t, err := time.Parse(time.RFC3339, *av.S)
			if err != nil {
				return err
			}
			v.Set(reflect.ValueOf(t).Convert(v.Type()))
		case v.Kind() == reflect.String:
			v.SetString(*av.S)
		default:
			return typeError("string", v)
		}
	case av.N != nil:
		return decodeNumber(*av.N, v)
	case av.BOOL != nil:
		if v.Kind() != reflect.Bool {
			return typeError("boolean", v)
		}
		v.SetBool(*av.BOOL)
	case av.L != nil:
		if v.Kind() != reflect.Slice {
			return typeError("list", v)
		}
		l := reflect.MakeSlice(v.Type(), len(av.L), len(av.L))
		for i, e := range av.L {
			if err := decode(e, l.Index(i)); err != nil {
				return fmt.Errorf("%d: %w", i, err)
			}
		}
		v.Set(l)
	case av.M != nil:
		switch {
		case v.Kind() == reflect.Struct:
			return decodeStruct(av.M, v)
		case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
			m := reflect.MakeMapWithSize(v.Type(), len(av.M))
			for k, e := range av.M {
				ev := reflect.New(v.Type().Elem()).Elem()
				if err := decode(e, ev); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
			}
			v.Set(m)
		default:
			return typeError("map", v)
		}
	default:
		return errors.New("no value of a supported type (S, N, BOOL, NULL, L, M)")
	}
	return nil
}

func decodeNumber(n string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v.OverflowInt(i) {
			return numberError(n, v, err)
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n, 10, 64)
		if err != nil || v.OverflowUint(u) {
			return numberError(n, v, err)
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil || v.OverflowFloat(f) {
			return numberError(n, v, err)
		}
		v.SetFloat(f)
	case reflect.String:
		v.SetString(n)
	default:
		return typeError("number", v)
	}
	return nil
}

// numberError is err, the number's parse error, or else its overflow of v.
func numberError(n string, v reflect.Value, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("number %s overflows %s", n, v.Type())
}

func decodeStruct(item Item, v reflect.Value) error {
	fields, err := structFields(v.Type())
	if err != nil {
		return err
	}
	for name, av := range item {
		f, ok := fieldNamed(fields, name)
		if !ok {
			continue
		}
		if err := decode(av, v.Field(f.index)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// fieldNamed finds the field of an attribute: by exact name, else (as the
// SDK did) ignoring case.
func fieldNamed(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return field{}, false
}

func typeError(what string, v reflect.Value) error {
	return fmt.Errorf("cannot put a %s into %s", what, v.Type())
}

type field struct {
	name      string
	index     int
	omitEmpty bool
}

// fieldCache holds each struct type's fields: a history page decodes
// thousands of records of one type.
var fieldCache sync.Map // reflect.Type → []field

func structFields(t reflect.Type) ([]field, error) {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field), nil
	}
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch {
		case name == "-" || !sf.IsExported():
			continue
		case sf.Anonymous && name == "" && indirectType(sf.Type).Kind() == reflect.Struct:
			// The SDK promoted an embedded struct's fields; no state type
			// embeds one, so rather than copy its rules, refuse.
			return nil, fmt.Errorf("encode %s: embedded field %s needs a json name", t, sf.Name)
		case name == "":
			name = sf.Name
		}
		fields = append(fields, field{name: name, index: i, omitEmpty: hasOption(opts, "omitempty")})
	}
	fieldCache.Store(t, fields)
	return fields, nil
}

func indirectType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func hasOption(opts, want string) bool {
	for opt := range strings.SplitSeq(opts, ",") {
		if opt == want {
			return true
		}
	}
	return false
}
