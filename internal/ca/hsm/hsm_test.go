package hsm_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
)

func TestGenerateFindSign(t *testing.T) {
	h, _ := hsmtest.Open(t)

	if _, err := h.FindRSAKey("jlis-sign-ca", 2048); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("FindRSAKey on empty token: %v, want ErrKeyNotFound", err)
	}
	s1, created, err := h.FindOrGenerateRSAKey("jlis-sign-ca", 2048)
	if err != nil || !created {
		t.Fatalf("FindOrGenerateRSAKey: created=%v err=%v", created, err)
	}
	s2, created, err := h.FindOrGenerateRSAKey("jlis-sign-ca", 2048)
	if err != nil || created {
		t.Fatalf("second FindOrGenerateRSAKey: created=%v err=%v", created, err)
	}
	p1, p2 := s1.Public().(*rsa.PublicKey), s2.Public().(*rsa.PublicKey)
	if !p1.Equal(p2) {
		t.Fatal("the second lookup returned a different key")
	}
	if p1.N.BitLen() != 2048 {
		t.Fatalf("modulus is %d bits", p1.N.BitLen())
	}
	if _, err := h.FindRSAKey("jlis-sign-ca", 4096); !errors.Is(err, hsm.ErrKeyType) {
		t.Fatalf("size mismatch: %v, want ErrKeyType", err)
	}

	digest := sha256.Sum256([]byte("発行者署名"))
	sig, err := s2.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(p1, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	// PKCS#1 v1.5 is deterministic: the CA relies on it to rebuild a
	// certificate byte for byte after a crash.
	sig2, err := s1.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if string(sig) != string(sig2) {
		t.Fatal("two PKCS#1 v1.5 signatures over one digest differ")
	}

	// Keys persist in the token across a close and reopen.
	other, created, err := h.FindOrGenerateRSAKey("jlis-auth-ca", 2048)
	if err != nil || !created {
		t.Fatalf("auth key: %v", err)
	}
	if other.Public().(*rsa.PublicKey).Equal(p1) {
		t.Fatal("two labels share one key")
	}
}

func TestConcurrentSigning(t *testing.T) {
	h, _ := hsmtest.Open(t)
	s, err := h.GenerateRSAKey("k", 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*rsa.PublicKey)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				d := sha256.Sum256([]byte(fmt.Sprint(g, i)))
				sig, err := s.Sign(nil, d[:], crypto.SHA256)
				if err == nil {
					err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestWrongPINDoesNotLeak(t *testing.T) {
	cfg := hsmtest.NewToken(t)
	cfg.PIN = "WRONG-PIN-123456"
	_, err := hsm.Open(cfg)
	if !errors.Is(err, hsm.ErrOpen) {
		t.Fatalf("Open with a wrong PIN: %v, want ErrOpen", err)
	}
	if strings.Contains(err.Error(), cfg.PIN) {
		t.Fatalf("error text contains the PIN: %v", err)
	}
	cfg.PIN = ""
	if _, err := hsm.Open(cfg); !errors.Is(err, hsm.ErrConfig) {
		t.Fatalf("Open without a PIN: %v, want ErrConfig", err)
	}
}

func TestConfigNeverPrintsPIN(t *testing.T) {
	const pin = "S3CRET-PIN-9876"
	c := hsm.Config{Module: "/m.so", TokenLabel: "jlis", PIN: pin}
	var logBuf strings.Builder
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("cfg", "hsm", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c), logBuf.String()} {
		if strings.Contains(s, pin) {
			t.Fatalf("PIN printed: %s", s)
		}
		if !strings.Contains(s, "jlis") {
			t.Fatalf("token label missing from %q", s)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(hsm.EnvModule, "")
	t.Setenv(hsm.EnvToken, "")
	t.Setenv(hsm.EnvPIN, "")
	if _, err := hsm.ConfigFromEnv(); !errors.Is(err, hsm.ErrConfig) {
		t.Fatalf("no PIN: %v, want ErrConfig", err)
	}
	t.Setenv(hsm.EnvPIN, "1234")
	c, err := hsm.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Module != hsm.DefaultModule || c.TokenLabel != hsm.DefaultToken || c.PIN != "1234" {
		t.Fatalf("defaults not applied: %v", c)
	}
	t.Setenv(hsm.EnvModule, "/x.so")
	t.Setenv(hsm.EnvToken, "other")
	c, _ = hsm.ConfigFromEnv()
	if c.Module != "/x.so" || c.TokenLabel != "other" {
		t.Fatalf("env not read: %v", c)
	}
}

// BenchmarkSign measures signatures through the long-lived context.
func BenchmarkSign(b *testing.B) {
	h, _ := hsmtest.Open(b)
	s, err := h.GenerateRSAKey("bench", 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Sign(nil, d[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
