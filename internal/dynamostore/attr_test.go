package dynamostore_test

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// The store wrote items with the SDK's attributevalue package, so tagged;
// what it writes now must be the same attributes, and what that package
// wrote must read back the same.
func sdkEncode(o *attributevalue.EncoderOptions) {
	o.TagKey = "json"
	o.EncodeTime = func(t time.Time) (types.AttributeValue, error) {
		return &types.AttributeValueMemberS{Value: t.UTC().Format(time.RFC3339Nano)}, nil
	}
}

func sdkDecode(o *attributevalue.DecoderOptions) { o.TagKey = "json" }

type inner struct {
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
}

// TestMarshalItem: each kind of field as the wire form DynamoDB gets, the
// same as the SDK's encoding made of it.
func TestMarshalItem(t *testing.T) {
	pdt := time.FixedZone("PDT", -7*3600)
	zero := 0
	rl := 4321
	tests := []struct {
		name string
		v    any
		want string // the item's JSON
	}{
		{name: "string", v: struct {
			S string `json:"s"`
		}{"myapp"}, want: `{"s":{"S":"myapp"}}`},
		{name: "empty string kept", v: struct {
			S string `json:"s"`
		}{}, want: `{"s":{"S":""}}`},
		{name: "empty string omitted", v: struct {
			S string `json:"s,omitempty"`
		}{}, want: `{}`},
		{name: "typed string", v: struct {
			V probe.Verdict `json:"verdict"`
		}{probe.Fail}, want: `{"verdict":{"S":"fail"}}`},
		{name: "numbers as strings", v: struct {
			I   int     `json:"i"`
			Neg int64   `json:"neg"`
			Max int64   `json:"max"`
			U   uint32  `json:"u"`
			F   float64 `json:"f"`
		}{3, -7, math.MaxInt64, 42, 0.1}, want: `{"i":{"N":"3"},"neg":{"N":"-7"},"max":{"N":"9223372036854775807"},"u":{"N":"42"},"f":{"N":"0.1"}}`},
		{name: "floats in full, never with an exponent", v: struct {
			Big   float64 `json:"big"`
			Small float64 `json:"small"`
			F32   float32 `json:"f32"`
		}{1e21, 1.5e-7, 0.3}, want: `{"big":{"N":"1000000000000000000000"},"small":{"N":"0.00000015"},"f32":{"N":"0.3"}}`},
		{name: "zero number kept", v: struct {
			N int `json:"n"`
		}{}, want: `{"n":{"N":"0"}}`},
		{name: "zero number omitted", v: struct {
			N int `json:"n,omitempty"`
		}{}, want: `{}`},
		{name: "booleans", v: struct {
			T     bool `json:"t"`
			F     bool `json:"f"`
			FOmit bool `json:"fOmit,omitempty"`
		}{T: true}, want: `{"t":{"BOOL":true},"f":{"BOOL":false}}`},
		{name: "nil pointer is null", v: struct {
			P *int `json:"p"`
		}{}, want: `{"p":{"NULL":true}}`},
		{name: "nil pointer omitted", v: struct {
			P *int `json:"p,omitempty"`
		}{}, want: `{}`},
		{name: "pointer to zero kept despite omitempty", v: struct {
			P *int `json:"p,omitempty"`
			Q *int `json:"q,omitempty"`
		}{&zero, &rl}, want: `{"p":{"N":"0"},"q":{"N":"4321"}}`},
		{name: "list", v: struct {
			L []string `json:"l"`
		}{[]string{"evt-1", "evt-2"}}, want: `{"l":{"L":[{"S":"evt-1"},{"S":"evt-2"}]}}`},
		{name: "nil list is null", v: struct {
			L []string `json:"l"`
		}{}, want: `{"l":{"NULL":true}}`},
		{name: "nil list omitted", v: struct {
			L []string `json:"l,omitempty"`
		}{}, want: `{}`},
		{name: "empty list kept despite omitempty", v: struct {
			L []string `json:"l,omitempty"`
		}{[]string{}}, want: `{"l":{"L":[]}}`},
		{name: "empty strings in a list", v: struct {
			L []string `json:"l"`
		}{[]string{"", ""}}, want: `{"l":{"L":[{"S":""},{"S":""}]}}`},
		{name: "nested struct", v: struct {
			In  inner  `json:"in"`
			Ptr *inner `json:"ptr,omitempty"`
		}{In: inner{Name: "a", Count: 2}, Ptr: &inner{}}, want: `{"in":{"M":{"name":{"S":"a"},"count":{"N":"2"}}},"ptr":{"M":{"name":{"S":""}}}}`},
		{name: "empty struct is an empty map", v: struct {
			E state.Episodes `json:"episodes"`
		}{}, want: `{"episodes":{"M":{}}}`},
		{name: "list of maps", v: struct {
			L []inner `json:"l"`
		}{[]inner{{Name: "a"}, {Name: "b", Count: 1}}}, want: `{"l":{"L":[{"M":{"name":{"S":"a"}}},{"M":{"name":{"S":"b"},"count":{"N":"1"}}}]}}`},
		{name: "map of lists of maps", v: struct {
			M map[string][]inner `json:"m"`
		}{map[string][]inner{"x": {{Name: "a"}}, "y": {}, "z": nil}}, want: `{"m":{"M":{"x":{"L":[{"M":{"name":{"S":"a"}}}]},"y":{"L":[]},"z":{"NULL":true}}}}`},
		{name: "time in UTC with nanoseconds", v: struct {
			T time.Time `json:"t"`
		}{time.Date(2025, 3, 14, 8, 9, 26, 535897932, pdt)}, want: `{"t":{"S":"2025-03-14T15:09:26.535897932Z"}}`},
		{name: "zero time written (omitzero not honoured, as before)", v: struct {
			T time.Time `json:"t,omitzero"`
			U time.Time `json:"u,omitempty"`
		}{}, want: `{"t":{"S":"0001-01-01T00:00:00Z"},"u":{"S":"0001-01-01T00:00:00Z"}}`},
		{name: "names", v: struct {
			Untagged string
			OptsOnly string `json:",omitempty"`
			Skipped  string `json:"-"`
			hidden   string
		}{"a", "b", "c", "d"}, want: `{"Untagged":{"S":"a"},"OptsOnly":{"S":"b"}}`},
		{name: "zero state", v: state.State{},
			want: `{"version":{"N":"0"},"slowStreak":{"N":"0"},"fastStreak":{"N":"0"},"episodes":{"M":{}},"quantity":{"N":"0"},"lastScaleAt":{"S":"0001-01-01T00:00:00Z"}}`},
		{name: "proportional state", v: state.State{Version: 7, Proportional: &state.Proportional{
			LatencyMS: 123.456, At: time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC), Dynos: 2, Wanted: []state.Want{{At: time.Date(2025, 3, 14, 15, 8, 0, 0, time.UTC), Dynos: 3}},
		}, EventIDs: []string{}},
			want: `{"version":{"N":"7"},"slowStreak":{"N":"0"},"fastStreak":{"N":"0"},"episodes":{"M":{}},"quantity":{"N":"0"},"lastScaleAt":{"S":"0001-01-01T00:00:00Z"},` +
				`"proportional":{"M":{"latencyMs":{"N":"123.456"},"at":{"S":"2025-03-14T15:09:00Z"},"dynos":{"N":"2"},"wanted":{"L":[{"M":{"at":{"S":"2025-03-14T15:08:00Z"},"dynos":{"N":"3"}}}]}}},"eventIds":{"L":[]}}`},
		{name: "full state", v: fullState(), want: ""}, // compared with the SDK's only
		{name: "full record", v: fullState().LastDecision, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
				v = rv.Elem().Interface()
			}
			item, err := dynamostore.MarshalItem(v)
			if err != nil {
				t.Fatalf("MarshalItem: %v", err)
			}
			got := wireJSON(t, item)
			if tt.want != "" && !sameJSON(t, got, tt.want) {
				t.Errorf("item =\n%s\nwant\n%s", got, tt.want)
			}
			sdkItem, err := attributevalue.MarshalMapWithOptions(v, sdkEncode)
			if err != nil {
				t.Fatalf("SDK marshal: %v", err)
			}
			sdk, err := json.Marshal(itemToWire(sdkItem))
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, string(sdk)) {
				t.Errorf("item =\n%s\nthe SDK's was\n%s", got, sdk)
			}

			// Read back, it is what the SDK reads of it.
			ours := reflect.New(reflect.TypeOf(v))
			if err := dynamostore.UnmarshalItem(item, ours.Interface()); err != nil {
				t.Fatalf("UnmarshalItem: %v", err)
			}
			theirs := reflect.New(reflect.TypeOf(v))
			if err := attributevalue.UnmarshalMapWithOptions(sdkItem, theirs.Interface(), sdkDecode); err != nil {
				t.Fatalf("SDK unmarshal: %v", err)
			}
			if !reflect.DeepEqual(ours.Elem().Interface(), theirs.Elem().Interface()) {
				t.Errorf("read back as\n%+v\nthe SDK reads\n%+v", ours.Elem(), theirs.Elem())
			}
		})
	}
}

func TestMarshalItemRefuses(t *testing.T) {
	type Embedded struct{ A string }
	tests := []struct {
		name    string
		v       any
		wantErr string
	}{
		{name: "not a struct", v: "x", wantErr: "not a struct"},
		{name: "binary", v: struct {
			B []byte `json:"b"`
		}{[]byte("x")}, wantErr: "binary values are not supported"},
		{name: "map with int keys", v: struct {
			M map[int]string `json:"m"`
		}{map[int]string{1: "a"}}, wantErr: "m: encode map[int]string: map keys must be strings"},
		{name: "embedded struct", v: struct{ Embedded }{}, wantErr: "embedded field Embedded needs a json name"},
		{name: "channel deep down", v: struct {
			L []inner      `json:"l"`
			C []chan<- int `json:"c"`
		}{C: []chan<- int{make(chan int)}}, wantErr: "c: 0: encode chan<- int: unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dynamostore.MarshalItem(tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("MarshalItem error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

type decoded struct {
	S         string            `json:"s"`
	N         int               `json:"n"`
	I8        int8              `json:"i8"`
	U         uint              `json:"u"`
	F         float64           `json:"f"`
	B         bool              `json:"b"`
	P         *int              `json:"p"`
	L         []string          `json:"l"`
	M         map[string][]int  `json:"m"`
	In        *inner            `json:"in"`
	T         time.Time         `json:"t"`
	LatencyMS int64             `json:"latencyMs"`
	Verdict   probe.Verdict     `json:"verdict"`
	Nested    []map[string]bool `json:"nested"`
}

// TestUnmarshalItem: wire items as DynamoDB answers them read into Go
// values as the SDK read them, and a value of the wrong type is a clear
// error naming the attribute.
func TestUnmarshalItem(t *testing.T) {
	seven := 7
	tests := []struct {
		name    string
		item    string
		want    decoded
		wantErr string
	}{
		{name: "scalars", item: `{"s":{"S":"x"},"n":{"N":"-42"},"u":{"N":"42"},"f":{"N":"1.5"},"b":{"BOOL":true},"verdict":{"S":"pass"}}`,
			want: decoded{S: "x", N: -42, U: 42, F: 1.5, B: true, Verdict: probe.Pass}},
		{name: "empty string", item: `{"s":{"S":""}}`, want: decoded{}},
		{name: "number into a string", item: `{"s":{"N":"12"}}`, want: decoded{S: "12"}},
		{name: "pointer", item: `{"p":{"N":"7"}}`, want: decoded{P: &seven}},
		{name: "nulls are zero", item: `{"s":{"NULL":true},"p":{"NULL":true},"l":{"NULL":true},"in":{"NULL":true}}`, want: decoded{}},
		{name: "empty list is empty, not nil", item: `{"l":{"L":[]}}`, want: decoded{L: []string{}}},
		{name: "empty map", item: `{"in":{"M":{}},"m":{"M":{}}}`, want: decoded{In: &inner{}, M: map[string][]int{}}},
		{name: "nested maps and lists", item: `{"m":{"M":{"a":{"L":[{"N":"1"},{"N":"2"}]},"b":{"L":[]}}},"nested":{"L":[{"M":{"x":{"BOOL":true}}},{"M":{}}]},"in":{"M":{"name":{"S":"n"},"count":{"N":"3"}}}}`,
			want: decoded{M: map[string][]int{"a": {1, 2}, "b": {}}, Nested: []map[string]bool{{"x": true}, {}}, In: &inner{Name: "n", Count: 3}}},
		{name: "time", item: `{"t":{"S":"2025-03-14T15:09:26.535897932Z"}}`, want: decoded{T: time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)}},
		{name: "unknown attributes ignored", item: `{"pk":{"S":"myapp#web"},"tags":{"SS":["a"]},"s":{"S":"x"}}`, want: decoded{S: "x"}},
		{name: "name matched ignoring case", item: `{"LATENCYMS":{"N":"5"}}`, want: decoded{LatencyMS: 5}},
		{name: "string into a number", item: `{"n":{"S":"5"}}`, wantErr: "n: cannot put a string into int"},
		{name: "not a number", item: `{"n":{"N":"5x"}}`, wantErr: `n: strconv.ParseInt: parsing "5x": invalid syntax`},
		{name: "fraction into an int", item: `{"n":{"N":"1.5"}}`, wantErr: `n: strconv.ParseInt`},
		{name: "overflow", item: `{"i8":{"N":"300"}}`, wantErr: "i8: number 300 overflows int8"},
		{name: "negative into unsigned", item: `{"u":{"N":"-1"}}`, wantErr: "u: strconv.ParseUint"},
		{name: "bad time", item: `{"t":{"S":"yesterday"}}`, wantErr: `t: parsing time "yesterday"`},
		{name: "deep type error", item: `{"in":{"M":{"count":{"BOOL":true}}}}`, wantErr: "in: count: cannot put a boolean into int"},
		{name: "list element", item: `{"m":{"M":{"a":{"L":[{"N":"1"},{"S":"2"}]}}}}`, wantErr: "m: a: 1: cannot put a string into int"},
		{name: "set", item: `{"l":{"SS":["a"]}}`, wantErr: "l: no value of a supported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var item dynamostore.Item
			if err := json.Unmarshal([]byte(tt.item), &item); err != nil {
				t.Fatal(err)
			}
			var got decoded
			err := dynamostore.UnmarshalItem(item, &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("UnmarshalItem error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalItem: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UnmarshalItem =\n%+v\nwant\n%+v", got, tt.want)
			}
			var sdk decoded
			if err := attributevalue.UnmarshalMapWithOptions(sdkItem(t, tt.item), &sdk, sdkDecode); err != nil {
				t.Fatalf("SDK unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, sdk) {
				t.Errorf("UnmarshalItem =\n%+v\nthe SDK reads\n%+v", got, sdk)
			}
		})
	}
}

// TestFixtureDecodes: the stored items of testdata read without DynamoDB.
func TestFixtureDecodes(t *testing.T) {
	data, err := os.ReadFile("testdata/items.json")
	if err != nil {
		t.Fatal(err)
	}
	var scan struct{ Items []dynamostore.Item }
	if err := json.Unmarshal(data, &scan); err != nil {
		t.Fatal(err)
	}
	wantState, wantRecs := fixtureWant()
	var got state.State
	if err := dynamostore.UnmarshalItem(scan.Items[0], &got); err != nil {
		t.Fatalf("state item: %v", err)
	}
	if !reflect.DeepEqual(got, wantState) {
		t.Errorf("state item =\n%+v\nwant\n%+v", got, wantState)
	}
	for i, item := range scan.Items[1:] {
		var rec state.Record
		if err := dynamostore.UnmarshalItem(item, &rec); err != nil {
			t.Fatalf("history item %d: %v", i, err)
		}
		if !reflect.DeepEqual(rec, wantRecs[i]) {
			t.Errorf("history item %d =\n%+v\nwant\n%+v", i, rec, wantRecs[i])
		}
	}
}

func wireJSON(t *testing.T, item dynamostore.Item) string {
	t.Helper()
	b, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func sdkItem(t *testing.T, wire string) map[string]types.AttributeValue {
	t.Helper()
	var w map[string]wireValue
	if err := json.Unmarshal([]byte(wire), &w); err != nil {
		t.Fatal(err)
	}
	item, err := wireItem(w)
	if err != nil {
		t.Fatal(err)
	}
	return item
}
