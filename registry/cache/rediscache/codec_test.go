package rediscache

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry"
	"github.com/lineage-explorer/explorer/registry/demo"
	"github.com/lineage-explorer/explorer/registry/isometric"
	"github.com/lineage-explorer/explorer/registry/lineage"
)

// fill sets every field reachable from v to a distinct non-zero value, so that a field the
// codec forgot (one added to CreditBatch later, say) fails the round trip.
func fill(v reflect.Value, name string, n *int64) {
	*n++
	switch v.Type() {
	case reflect.TypeFor[registry.Timestamp]():
		v.Set(reflect.ValueOf(registry.Timestamp{Time: time.Date(2024, 3, 1, 12, 30, 45, int(*n)*1000, time.UTC)}))
		return
	case reflect.TypeFor[registry.Date]():
		v.Set(reflect.ValueOf(registry.Date{Time: time.Date(2020, 1, int(*n%28)+1, 0, 0, 0, 0, time.UTC)}))
		return
	case reflect.TypeFor[json.Number]():
		v.SetString("12345678901234.567")
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x-" + name)
	case reflect.Int64, reflect.Int:
		v.SetInt(1<<60 + *n) // above 2^53: a float64 on the way would change it
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), name+"."+v.Type().Field(i).Name, n)
			}
		}
	default:
		panic("fill: add a case for " + v.Type().String())
	}
}

func TestCodecRoundTripsEveryField(t *testing.T) {
	var b registry.CreditBatch
	var n int64
	fill(reflect.ValueOf(&b).Elem(), "batch", &n)
	v, err := encodeBatch(&b)
	if err != nil {
		t.Fatal(err)
	}
	e, err := decodeEntry(b.ID, v)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*e.Batch, b) {
		t.Errorf("round trip changed the batch:\n got %+v\nwant %+v", *e.Batch, b)
	}
	// Empty, unlike nil, stays empty.
	b2 := registry.CreditBatch{ID: "ctb_1DRBTYA8Q1S07CBY", Beneficiary: &registry.Organisation{}}
	v, _ = encodeBatch(&b2)
	if e, err := decodeEntry(b2.ID, v); err != nil || !reflect.DeepEqual(*e.Batch, b2) {
		t.Errorf("sparse batch: %v, %+v", err, e)
	}
}

func TestCodecRoundTripsTheDemoTrees(t *testing.T) {
	reg := demo.New(demo.Options{})
	c, err := isometric.NewClient(isometric.ClientConfig{BaseURL: demo.NewTestServer(t, reg), AccessToken: demo.AccessToken, ClientSecret: demo.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	w := lineage.NewWalker(c, lineage.WalkerConfig{})
	f := reg.Fixtures()
	var count, full, compact int
	for _, id := range []string{f.WideRoot, f.BigKgRoot, f.DeepChainRoot, f.HostileOrgBatch, f.AllFinalRoot} {
		tree, err := w.Lineage(context.Background(), id, nil)
		if err != nil {
			t.Fatal(err)
		}
		for id, node := range tree.Nodes {
			if node.Batch == nil {
				continue
			}
			v, err := encodeBatch(node.Batch)
			if err != nil {
				t.Fatal(err)
			}
			e, err := decodeEntry(id, v)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e.Batch, node.Batch) {
				t.Fatalf("batch %s changed in the round trip:\n got %+v\nwant %+v", id, e.Batch, node.Batch)
			}
			plain, _ := json.Marshal(node.Batch)
			count, full, compact = count+1, full+len(plain), compact+len(v)
		}
	}
	if compact >= full {
		t.Errorf("stored values take %d bytes, plain JSON %d: not compact", compact, full)
	}
	t.Logf("%d batches: %d bytes each stored, %d as plain JSON", count, compact/count, full/count)
}

func TestCodecRefusesWhatItDidNotWrite(t *testing.T) {
	b := registry.CreditBatch{ID: "ctb_1DRBTYA8Q1S07CBY", Status: registry.StatusSplit}
	v, _ := encodeBatch(&b)
	for name, raw := range map[string][]byte{
		"empty":         nil,
		"plain JSON":    []byte(`{"id":"ctb_1DRBTYA8Q1S07CBY","status":"split"}`),
		"other batch":   v,
		"truncated":     v[:len(v)-3],
		"unknown tag":   append([]byte{'c'}, v[1:]...),
		"404 with body": []byte("n{}"),
	} {
		id := b.ID
		if name == "other batch" {
			id = "ctb_2DRBTYA8Q1S07CBY"
		}
		if e, err := decodeEntry(id, raw); err == nil {
			t.Errorf("%s: decoded as %+v", name, e)
		}
	}
	if e, err := decodeEntry(b.ID, []byte{tagNotFound}); err != nil || e.Batch != nil {
		t.Errorf("404 marker: %+v, %v", e, err)
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url                string
		addrs              []string
		db                 int
		user, pass, master string
		cluster, tls       bool
		sentinelPass       string
	}{
		{url: "redis://localhost", addrs: []string{"localhost:6379"}},
		{url: "redis://:pw@10.0.0.1:6380/3", addrs: []string{"10.0.0.1:6380"}, db: 3, pass: "pw"},
		{url: "redis://pw@h:1", addrs: []string{"h:1"}, pass: "pw"},
		{url: "redis://app:p%40ss@h:1/0", addrs: []string{"h:1"}, user: "app", pass: "p@ss"},
		{url: "rediss://:pw@cache.example:6380", addrs: []string{"cache.example:6380"}, pass: "pw", tls: true},
		{url: "redis://[::1]:7000", addrs: []string{"[::1]:7000"}},
		{url: "redis://:pw@n1:7000?addr=n2:7000&addr=n3:7000", addrs: []string{"n1:7000", "n2:7000", "n3:7000"}, pass: "pw", cluster: true},
		{url: "redis://n1:7000?cluster=true", addrs: []string{"n1:7000"}, cluster: true},
		{url: "redis://:pw@s1:26379/2?master_name=main&addr=s2:26379", addrs: []string{"s1:26379", "s2:26379"}, db: 2, pass: "pw", master: "main"},
		{url: "redis://:pw@s1:26379?master_name=main&sentinel_auth=true", addrs: []string{"s1:26379"}, pass: "pw", master: "main", sentinelPass: "pw"},
	} {
		o, err := ParseURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if !reflect.DeepEqual(o.Addrs, c.addrs) || o.DB != c.db || o.Username != c.user || o.Password != c.pass ||
			o.MasterName != c.master || o.IsClusterMode != c.cluster || (o.TLSConfig != nil) != c.tls || o.SentinelPassword != c.sentinelPass {
			t.Errorf("%s: got addrs %v db %d user %q pass %q master %q cluster %v tls %v sentinel pass %q", c.url,
				o.Addrs, o.DB, o.Username, o.Password, o.MasterName, o.IsClusterMode, o.TLSConfig != nil, o.SentinelPassword)
		}
		if c.tls && (o.TLSConfig.ServerName != "cache.example" || o.TLSConfig.InsecureSkipVerify) {
			t.Errorf("%s: TLS config %+v", c.url, o.TLSConfig)
		}
	}
	for _, bad := range []string{"", "localhost:6379", "unix:///tmp/redis.sock", "redis://h:1/0/1", "redis://h:1/x",
		"redis://h:1?timeout=1s", "redis://h1:1?addr=h2:1&addr=nope", "redis://h1:1/2?addr=h2:1", "redis://h:1?cluster=maybe", "redis:///0"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "REDIS_URL") {
			t.Errorf("%q: error %q does not name REDIS_URL", bad, err)
		}
	}
}
