// Package codec encrypts Temporal payloads with AES-256-GCM so that personal
// data (the 4 information, addresses, register records) never reaches the
// Temporal server or its history in the clear.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const (
	// Encoding marks a payload as encrypted by this codec.
	Encoding = "binary/encrypted"
	// metadataKeyID names the key so keys can be rotated later.
	metadataKeyID = "encryption-key-id"
)

// ErrUnknownKey is returned when a payload names a key this codec lacks.
var ErrUnknownKey = errors.New("codec: payload encrypted with an unknown key")

// AESGCM is a converter.PayloadCodec using one AES-256-GCM key.
type AESGCM struct {
	keyID string
	aead  cipher.AEAD
}

// New builds the codec from a 32-byte key.
func New(key []byte) (*AESGCM, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("codec: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	sum := sha256.Sum256(key)
	return &AESGCM{keyID: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// Load reads a hex-encoded 32-byte key from a file.
func Load(path string) (*AESGCM, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("codec: read key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("codec: key file is not hex: %w", err)
	}
	return New(key)
}

// Encode encrypts each payload whole (metadata and data).
func (c *AESGCM) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("codec: marshal: %w", err)
		}
		nonce := make([]byte, c.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		sealed := c.aead.Seal(nonce, nonce, plain, nil)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				metadataKeyID:              []byte(c.keyID),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec encrypted and passes others through.
func (c *AESGCM) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		if string(p.GetMetadata()[metadataKeyID]) != c.keyID {
			return nil, ErrUnknownKey
		}
		data := p.GetData()
		ns := c.aead.NonceSize()
		if len(data) < ns {
			return nil, errors.New("codec: payload too short")
		}
		plain, err := c.aead.Open(nil, data[:ns], data[ns:], nil)
		if err != nil {
			return nil, fmt.Errorf("codec: decrypt: %w", err)
		}
		var dec commonpb.Payload
		if err := dec.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("codec: unmarshal: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// DataConverter wraps the default converter with this codec.
func (c *AESGCM) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
