package vcard

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"runtime"
	"sync"
)

// KeyBits is the size of the keys the card generates (RSA-2048, as the 鍵ペア生成装置 does).
const KeyBits = 2048

// KeySource supplies the key pairs GENERATE KEY PAIR puts on the card.
// Implementations must be safe for concurrent use by many applets.
type KeySource interface {
	GenerateKey() (*rsa.PrivateKey, error)
}

// OnDemand generates a fresh RSA-2048 key per request (≈ 50–150 ms each on the
// reference machine). It is the default KeySource.
type OnDemand struct{}

// GenerateKey implements KeySource.
func (OnDemand) GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("vcard: generate RSA key: %w", err)
	}
	return k, nil
}

// KeyPool hands out keys generated beforehand, so a benchmark measures the
// back office rather than RSA key generation. When the pool runs dry it falls
// back to generating on demand. Safe for concurrent use.
type KeyPool struct {
	mu       sync.Mutex
	keys     []*rsa.PrivateKey
	fallback KeySource
}

// NewKeyPool pre-generates n RSA-2048 keys, in parallel on all CPUs.
func NewKeyPool(n int) (*KeyPool, error) {
	if n < 0 {
		return nil, fmt.Errorf("vcard: key pool size %d", n)
	}
	keys := make([]*rsa.PrivateKey, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				k, err := OnDemand{}.GenerateKey()
				if err != nil {
					errs <- err
					return
				}
				keys[i] = k
			}
		}()
	}
	var firstErr error
feed:
	for i := range n {
		select {
		case next <- i:
		case firstErr = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if firstErr == nil {
		firstErr = <-errs // nil when the channel is empty and closed
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return &KeyPool{keys: keys, fallback: OnDemand{}}, nil
}

// GenerateKey implements KeySource: it takes a key from the pool, or generates
// one when the pool is empty. Each key is handed out once.
func (p *KeyPool) GenerateKey() (*rsa.PrivateKey, error) {
	p.mu.Lock()
	if n := len(p.keys); n > 0 {
		k := p.keys[n-1]
		p.keys[n-1] = nil
		p.keys = p.keys[:n-1]
		p.mu.Unlock()
		return k, nil
	}
	p.mu.Unlock()
	return p.fallback.GenerateKey()
}

// Remaining returns how many pre-generated keys are left.
func (p *KeyPool) Remaining() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.keys)
}
