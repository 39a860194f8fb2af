package shim

import (
	"fmt"
	"maps"
	"testing"
)

// FuzzWorkerState checks the per-connection PHP_VALUE against a model of
// php-fpm's worker: each request's PHP_VALUE is applied to the worker's
// master values and kept (docs/behaviour.md#b-fpm-php-value). Whatever the sequence —
// managed keys growing, settings changing, settings repeating, a new
// connection to the same worker (which keeps what earlier connections set)
// or to another worker — after every request the worker must hold exactly
// the wanted value of every managed key.
//
// The model worker refuses the value v2 of k1, as PHP refuses
// date.timezone Bogus/Zone: it keeps what it held, and the wanted value is
// then the baseline (v0 for every key), as under mod_php.
//
// Each input byte is one step: the low two bits choose the connection
// event (0, 1: same connection; 2: new connection, same worker; 3: new
// connection, another worker), bit 2 adds a managed key, the high bits pick
// the values.
func FuzzWorkerState(f *testing.F) {
	for _, seed := range []string{"\x00\x00\x00", "\x04\x10\x22\x02\x30\x03\x44", "\xff\xfe\xfd\xfc\x00\x01\x02\x03", "\x04\x04\x04\x04\x80\x80\x82\x80"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, steps []byte) {
		keys := []string{"memory_limit"}
		var state any
		worker := map[string]string{}
		sets := map[string]*encoded{} // the same settings, the same *encoded, as the resolver caches them
		for i, b := range steps {
			switch b & 3 {
			case 2:
				state = nil
			case 3:
				state = nil
				worker = map[string]string{"memory_limit": "leftover", "k1": "leftover"}
			}
			if b&4 != 0 && len(keys) < 6 {
				keys = append(keys, fmt.Sprintf("k%d", len(keys)))
			}
			settings := make([]Setting, len(keys))
			for j, k := range keys {
				settings[j] = Setting{Key: k, Value: fmt.Sprintf("v%d", (int(b>>3)+j)%3)}
			}
			id := fmt.Sprint(settings)
			e := sets[id]
			if e == nil {
				bases := make([]string, len(settings))
				for j := range bases {
					bases[j] = "v0"
				}
				e = newEncoded(settings, bases)
				if e.err != nil {
					t.Fatal(e.err)
				}
				sets[id] = e
			}
			for _, p := range e.connParams(&state) {
				if p.Name != "PHP_VALUE" {
					t.Fatalf("step %d: param %s", i, p.Name)
				}
				applied, err := iniModel(p.Value)
				if err != nil {
					t.Fatalf("step %d: PHP_VALUE %q: %v", i, p.Value, err)
				}
				for _, s := range applied {
					if s.Key == "k1" && s.Value == "v2" {
						continue // refused: the worker keeps its value
					}
					worker[s.Key] = s.Value
				}
			}
			want := map[string]string{}
			for _, s := range settings {
				want[s.Key] = s.Value
				if s.Key == "k1" && s.Value == "v2" {
					want[s.Key] = "v0"
				}
			}
			got := maps.Clone(worker)
			for k := range got {
				if _, managed := want[k]; !managed {
					delete(got, k) // left by another client: never managed, never reset
				}
			}
			if !maps.Equal(got, want) {
				t.Fatalf("step %d (byte %#x): worker holds %v, want %v", i, b, got, want)
			}
		}
	})
}
