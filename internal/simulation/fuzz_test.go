package simulation

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzReadCSV: any input is read or refused with an error naming the file,
// never a panic; what is read writes back to the same trace.
func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"minute,rpm\n0,600\n1,700\n", "minute,rpm\r\n0, 1e3\r\n", "minute,rpm\n1,5\n", "minute,rpm\n0,-1\n",
		"\ufeffminute,rpm\n0,0.5\n", "minute,rpm\n0,NaN\n", "minute,rpm\n0,600,\n", "",
		"\"minute\",\"rpm\"\r\n\"0\",\"5\"\r\n", "second,rps\n" + secondsRows(60, 2), "second,rps\n0,1\n1,\"2\n",
		"minute,jobs\n0,3\n1,0\n", "minute,jobs\n0,2.5\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ReadCSV(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		var out strings.Builder
		if err := tr.WriteCSV(&out); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(strings.NewReader(out.String()), "again")
		if err != nil || !reflect.DeepEqual(back, tr) {
			t.Fatalf("read %v, wrote %q, read back %v, %v", tr, out.String(), back, err)
		}
	})
}
