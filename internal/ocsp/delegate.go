package ocsp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/madoguchi/madoguchi/internal/ca"
	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/profile"
)

// Default HSM labels of the delegated OCSP-signing keys, next to the CA keys
// jlis-sign-ca and jlis-auth-ca.
const (
	DefaultSignKeyLabel = "jlis-sign-ocsp"
	DefaultAuthKeyLabel = "jlis-auth-ocsp"
)

// Defaults for the delegated responder certificates. RFC 6960 §4.2.2.2.1
// asks for a short lifetime when id-pkix-ocsp-nocheck is set, because
// clients cannot check such a certificate's revocation.
const (
	DefaultResponderValidity    = 90 * 24 * time.Hour
	DefaultResponderRenewBefore = 30 * 24 * time.Hour
)

var (
	oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	oidCountry     = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrg         = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCommonName  = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// DelegateOptions configure EnsureResponders. The zero value is usable.
type DelegateOptions struct {
	// SignKeyLabel and AuthKeyLabel name the responder keys in the HSM.
	SignKeyLabel, AuthKeyLabel string
	// Validity of a new responder certificate; a certificate is replaced
	// when less than RenewBefore of it is left.
	Validity, RenewBefore time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o DelegateOptions) withDefaults() DelegateOptions {
	if o.SignKeyLabel == "" {
		o.SignKeyLabel = DefaultSignKeyLabel
	}
	if o.AuthKeyLabel == "" {
		o.AuthKeyLabel = DefaultAuthKeyLabel
	}
	if o.Validity == 0 {
		o.Validity = DefaultResponderValidity
	}
	if o.RenewBefore == 0 {
		o.RenewBefore = DefaultResponderRenewBefore
	}
	if o.RenewBefore >= o.Validity {
		o.RenewBefore = o.Validity / 3
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o DelegateOptions) label(kind ca.Kind) string {
	if kind == ca.KindSign {
		return o.SignKeyLabel
	}
	return o.AuthKeyLabel
}

// Delegate is an issuing CA together with its delegated OCSP responder.
type Delegate struct {
	Kind ca.Kind
	// IssuerID is the ca_issuers row of the issuing CA.
	IssuerID int64
	// Issuer is the issuing CA's certificate.
	Issuer *x509.Certificate
	// Certificate is the responder's certificate, issued by Issuer with the
	// id-kp-OCSPSigning EKU and id-pkix-ocsp-nocheck.
	Certificate *x509.Certificate
	// Signer is the responder's key in the HSM.
	Signer crypto.Signer
	// KeyLabel is the responder key's HSM label.
	KeyLabel string
	// Created reports whether EnsureResponders issued Certificate now.
	Created bool
}

// delegateLockKey serializes EnsureResponders across processes, so two
// repository servers starting at once make one key and one certificate.
const delegateLockKey = 0x6d61646f_6f637370 // "mado" "ocsp"

// EnsureResponders makes sure each active issuing CA has a delegated OCSP
// responder: an RSA-2048 key in the HSM (found or generated under the label
// of its kind) and a current certificate for it, issued by the CA's key
// through (*ca.CA).IssuerSigner and stored in ocsp_responders. A stored
// certificate is reused while more than RenewBefore of it is left and the
// HSM key is still its key; otherwise a new one is issued. It is idempotent
// and holds an advisory lock; ca.Migrate must have run.
func EnsureResponders(ctx context.Context, pool *pgxpool.Pool, h *hsm.HSM, authority *ca.CA, opts DelegateOptions) (map[ca.Kind]*Delegate, error) {
	opts = opts.withDefaults()
	out := map[ca.Kind]*Delegate{}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(delegateLockKey)); err != nil {
			return fmt.Errorf("ocsp: responder lock: %w", err)
		}
		for _, kind := range []ca.Kind{ca.KindSign, ca.KindAuth} {
			d, err := ensureOne(ctx, tx, h, authority, kind, opts)
			if err != nil {
				return err
			}
			out[kind] = d
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func ensureOne(ctx context.Context, tx pgx.Tx, h *hsm.HSM, authority *ca.CA, kind ca.Kind, opts DelegateOptions) (*Delegate, error) {
	issuerCert, err := authority.IssuerCertificate(kind)
	if err != nil {
		return nil, err
	}
	d := &Delegate{Kind: kind, Issuer: issuerCert, KeyLabel: opts.label(kind)}
	var issuerDER []byte
	err = tx.QueryRow(ctx, "SELECT id, cert_der FROM ca_issuers WHERE kind = $1 AND active", string(kind)).Scan(&d.IssuerID, &issuerDER)
	if err != nil {
		return nil, fmt.Errorf("ocsp: find the active %s CA: %w", kind, err)
	}
	if string(issuerDER) != string(issuerCert.Raw) {
		return nil, fmt.Errorf("ocsp: the loaded %s CA is not the active one in the database; reload the CA", kind)
	}
	signer, created, err := h.FindOrGenerateRSAKey(d.KeyLabel, profile.RSABits)
	if err != nil {
		return nil, fmt.Errorf("ocsp: %s responder key: %w", kind, err)
	}
	d.Signer = signer
	now := opts.Now().UTC()
	if !created {
		var der []byte
		err := tx.QueryRow(ctx, `SELECT cert_der FROM ocsp_responders
			WHERE issuer_id = $1 AND key_label = $2 AND not_after > $3 ORDER BY not_after DESC, id DESC LIMIT 1`,
			d.IssuerID, d.KeyLabel, now.Add(opts.RenewBefore)).Scan(&der)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("ocsp: read %s responder certificate: %w", kind, err)
		default:
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("ocsp: stored %s responder certificate: %w", kind, err)
			}
			pub, _ := cert.PublicKey.(*rsa.PublicKey)
			if pub != nil && pub.Equal(signer.Public()) && cert.CheckSignatureFrom(issuerCert) == nil {
				d.Certificate = cert
				return d, nil
			}
			// A key re-made under the same label (or a CA re-key): certify
			// what the HSM now holds.
		}
	}
	issuerSigner, err := authority.IssuerSigner(kind)
	if err != nil {
		return nil, err
	}
	cert, err := IssueResponderCertificate(issuerCert, issuerSigner, signer.Public(), kind, now, opts.Validity)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ocsp_responders (issuer_id, key_label, serial, cert_der, not_before, not_after)
		VALUES ($1, $2, $3, $4, $5, $6)`, d.IssuerID, d.KeyLabel, ca.FormatSerial(cert.SerialNumber), cert.Raw,
		cert.NotBefore, cert.NotAfter); err != nil {
		return nil, fmt.Errorf("ocsp: store %s responder certificate: %w", kind, err)
	}
	d.Certificate = cert
	d.Created = true
	return d, nil
}

// IssueResponderCertificate makes a delegated OCSP-signing certificate for
// pub, signed by the issuing CA's key: subject C=JP, O=JPKI, OU=<the CA's
// unit>, OU=Japan Agency for Local Authority Information Systems,
// CN=OCSP Responder; key usage digitalSignature (critical); EKU
// id-kp-OCSPSigning; id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1: clients need
// not check the responder's own status); SKI and AKI; a random 127-bit
// serial; valid from now (backdated one minute for clock skew) for validity,
// never beyond the CA. It is also how benchmarks certify a software key for
// `openssl ocsp -rsigner`.
func IssueResponderCertificate(issuer *x509.Certificate, issuerKey crypto.Signer, pub crypto.PublicKey, kind ca.Kind, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("ocsp: responder key is %T, want RSA", pub)
	}
	if err := profile.CheckRSAKey(rsaPub); err != nil {
		return nil, fmt.Errorf("ocsp: responder key: %w", err)
	}
	unit := profile.UnitSign
	if kind == ca.KindAuth {
		unit = profile.UnitAuth
	}
	subject, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: oidCountry, Value: "JP"}},
		{{Type: oidOrg, Value: profile.OrganizationJPKI}},
		{{Type: oidOrgUnit, Value: unit}},
		{{Type: oidOrgUnit, Value: profile.UnitJLIS}},
		{{Type: oidCommonName, Value: "OCSP Responder"}},
	})
	if err != nil {
		return nil, fmt.Errorf("ocsp: responder subject: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notBefore := now.UTC().Truncate(time.Second).Add(-time.Minute)
	notAfter := notBefore.Add(validity)
	if notAfter.After(issuer.NotAfter) {
		notAfter = issuer.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:       serial,
		RawSubject:         subject,
		NotBefore:          notBefore,
		NotAfter:           notAfter,
		SignatureAlgorithm: x509.SHA256WithRSA,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		SubjectKeyId:       profile.KeyID(rsaPub),
		// NULL, as RFC 6960 §4.2.2.2.1 defines the extension's value.
		ExtraExtensions: []pkix.Extension{{Id: oidOCSPNoCheck, Value: []byte{0x05, 0x00}}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, rsaPub, issuerKey)
	if err != nil {
		return nil, fmt.Errorf("ocsp: sign %s responder certificate: %w", kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ocsp: parse %s responder certificate: %w", kind, err)
	}
	if err := cert.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("ocsp: %s responder certificate does not verify: %w", kind, err)
	}
	return cert, nil
}

// randomSerial draws a positive serial of 127 random bits with more than 64
// significant bits, as the CA does for its certificates.
func randomSerial() (*big.Int, error) {
	for {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("ocsp: random serial: %w", err)
		}
		b[0] &= 0x7f
		if n := new(big.Int).SetBytes(b); n.BitLen() > 64 {
			return n, nil
		}
	}
}
