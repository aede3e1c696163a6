// Package auth holds the credentials machinery: bcrypt password hashes, the HS256 tokens of the
// original server, and a short-lived cache of verified Basic credentials. It knows nothing of HTTP.
package auth

import (
	"errors"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// BcryptCost matches the original server's hashes (bcrypt-nodejs, cost 10), so exported password
// hashes keep working.
const BcryptCost = 10

// MaxPasswordBytes is bcrypt's input limit; longer passwords are refused rather than silently cut.
const MaxPasswordBytes = 72

// ErrPasswordTooLong is returned for passwords bcrypt cannot hash whole.
var ErrPasswordTooLong = errors.New("password longer than 72 bytes")

// HashPassword returns the bcrypt hash of password at cost (BcryptCost when 0).
func HashPassword(password string, cost int) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	if cost == 0 {
		cost = BcryptCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash is compared against when the user does not exist, so that the response time does not tell
// which emails are registered.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), BcryptCost)

// WasteComparison spends the time of one password check against a hash of BcryptCost.
func WasteComparison(password string) {
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
}

// dummies holds a dummy hash per cost (cost -> []byte), made on first use.
var dummies sync.Map

// WasteComparisonAt spends the time of one password check against a hash of cost (BcryptCost
// when 0): the cost of the server's own hashes, so that an unknown email takes as long as a wrong
// password.
func WasteComparisonAt(password string, cost int) {
	if cost == 0 || cost == BcryptCost {
		WasteComparison(password)
		return
	}
	h, ok := dummies.Load(cost)
	if !ok {
		made, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
		if err != nil {
			WasteComparison(password)
			return
		}
		h, _ = dummies.LoadOrStore(cost, made)
	}
	_ = bcrypt.CompareHashAndPassword(h.([]byte), []byte(password))
}
