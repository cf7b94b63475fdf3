package rediscache_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-explorer/explorer/registry/cache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache"
	"github.com/lineage-explorer/explorer/registry/cache/rediscache/redisserver"
	"github.com/lineage-explorer/explorer/registry/demo"
)

// tlsFiles are a private CA that TestMain makes the process trust (through SSL_CERT_FILE, as an
// operator with a private CA would), a server certificate it signed, and a self-signed one it
// did not.
var tlsFiles struct {
	cert, key                 string
	strangerCert, strangerKey string
}

// makeTLSFiles writes them under dir and points SSL_CERT_FILE at the CA. It must run before
// anything loads the system roots, which Go does once per process.
func makeTLSFiles(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
		return der, k, err
	}
	write := func(name, typ string, der []byte) (string, error) {
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
	}
	writeKey := func(name string, k *ecdsa.PrivateKey) (string, error) {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return "", err
		}
		return write(name, "EC PRIVATE KEY", der)
	}
	caFile, err := write("ca.pem", "CERTIFICATE", caDER)
	if err != nil {
		return err
	}
	der, k, err := leaf(2, caCert, caKey)
	if err != nil {
		return err
	}
	if tlsFiles.cert, err = write("server.pem", "CERTIFICATE", der); err != nil {
		return err
	}
	if tlsFiles.key, err = writeKey("server-key.pem", k); err != nil {
		return err
	}
	der, k, err = leaf(3, nil, nil)
	if err != nil {
		return err
	}
	if tlsFiles.strangerCert, err = write("stranger.pem", "CERTIFICATE", der); err != nil {
		return err
	}
	if tlsFiles.strangerKey, err = writeKey("stranger-key.pem", k); err != nil {
		return err
	}
	return os.Setenv("SSL_CERT_FILE", caFile)
}

// rediss:// works end to end against a real TLS Redis, with the certificate verified: replicas
// share a tree over TLS, and a server whose certificate nobody signed is refused.
func TestRedissVerifiesAndShares(t *testing.T) {
	if tlsFiles.cert == "" {
		t.Fatal("TestMain made no certificates")
	}
	const password = "tls-Pa55word"
	srv := redisserver.ForTestTLS(t, tlsFiles.cert, tlsFiles.key, "--requirepass", password)
	redisURL := strings.Replace(srv.URL(), "rediss://", "rediss://:"+password+"@", 1)
	reg := demo.New(demo.Options{})
	base := demo.NewTestServer(t, reg)
	cfg := rediscache.Config{Prefix: testPrefix(t)}
	a := newReplica(t, base, redisURL, cfg, cache.Config{})
	if err := a.tier.Health(context.Background()); err != nil {
		t.Fatalf("Health over TLS: %v", err)
	}
	f := reg.Fixtures()
	a.walk(t, f.AllFinalRoot)
	b := newReplica(t, base, redisURL, cfg, cache.Config{})
	reg.ResetStats()
	sameTree(t, b.walk(t, f.AllFinalRoot), cachedReference(t, f.AllFinalRoot))
	if n := reg.Requests(); n != 0 {
		t.Errorf("over TLS, the second replica sent %d upstream requests, want 0", n)
	}

	// Plain redis:// to the TLS port: an error, not a hang.
	plain, _ := rediscache.Open(strings.Replace(redisURL, "rediss://", "redis://", 1), rediscache.Config{Timeout: 300 * time.Millisecond})
	defer plain.Close()
	if err := plain.Health(context.Background()); err == nil {
		t.Error("plain redis:// to a TLS port reported healthy")
	}

	stranger := redisserver.ForTestTLS(t, tlsFiles.strangerCert, tlsFiles.strangerKey)
	tier, _ := rediscache.Open(stranger.URL(), rediscache.Config{})
	defer tier.Close()
	err := tier.Health(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Health against an unknown certificate = %v, want a certificate error", err)
	}
}
