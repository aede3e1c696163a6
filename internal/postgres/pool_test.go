package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDerivePoolSize(t *testing.T) {
	for _, tc := range []struct{ max, reserved, want int }{
		{100, 3, 21},  // PostgreSQL's default: four processes and their extra connections fit
		{20, 3, 4},    // a tiny server: never below the minimum
		{1000, 3, 32}, // a large one: never above the maximum
		{200, 10, 32}, // (190/4)-3 = 44, capped
		{60, 3, 11},   // (57/4)-3 = 11
	} {
		if got := derivePoolSize(tc.max, tc.reserved); got != tc.want {
			t.Errorf("derivePoolSize(%d, %d) = %d; want %d", tc.max, tc.reserved, got, tc.want)
		}
	}
}

func TestTakePoolParams(t *testing.T) {
	dsn, p, err := takePoolParams("postgres://u@h/db?sslmode=disable&pool_max_conns=12&pool_max_reads=5")
	if err != nil || p != (poolParams{size: 12, activeReads: 5}) || dsn != "postgres://u@h/db?sslmode=disable" {
		t.Errorf("got %q, %+v, %v", dsn, p, err)
	}
	if dsn, p, err := takePoolParams("postgres://u@h/db"); err != nil || p != (poolParams{}) || dsn != "postgres://u@h/db" {
		t.Errorf("without the parameters: %q, %+v, %v", dsn, p, err)
	}
	// Other parameters keep their meaning: a space in a setting stays a space, a plus a plus.
	in := "postgres://u@h/db?options=-c%20plan_cache_mode%3Dforce_generic_plan&application_name=a%2Bb"
	if dsn, _, err := takePoolParams(in); err != nil || dsn != in {
		t.Errorf("without the parameters the URL changed: %q, %v", dsn, err)
	}
	dsn, _, err = takePoolParams(in + "&pool_max_reads=3")
	if u, perr := url.Parse(dsn); err != nil || perr != nil || u.Query().Get("options") != "-c plan_cache_mode=force_generic_plan" ||
		u.Query().Get("application_name") != "a+b" || strings.Contains(dsn, "+") {
		t.Errorf("with pool_max_reads taken out: %q, %v", dsn, err)
	}
	for _, param := range []string{"pool_max_conns", "pool_max_reads"} {
		for _, bad := range []string{"0", "-1", "x", "1001"} {
			_, _, err := takePoolParams("postgres://u@h/db?" + param + "=" + bad)
			if err == nil || !strings.Contains(err.Error(), param) {
				t.Errorf("%s=%s: got %v; want an error naming the parameter", param, bad, err)
			}
		}
	}
}

func TestDeriveActiveReads(t *testing.T) {
	for _, tc := range []struct{ pool, cores, want int }{
		{21, 2, 4},   // two per core, but never fewer than the minimum
		{21, 8, 16},  // two per core
		{21, 16, 21}, // never more than the pool
		{4, 1, 4},
	} {
		if got := deriveActiveReads(tc.pool, tc.cores); got != tc.want {
			t.Errorf("deriveActiveReads(%d, %d) = %d; want %d", tc.pool, tc.cores, got, tc.want)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40P01"}, true},                           // deadlock_detected
		{fmt.Errorf("commit: %w", &pgconn.PgError{Code: "40001"}), true}, // serialization_failure, wrapped
		{&pgconn.PgError{Code: "23505"}, false},                          // unique_violation: a conflict to report
		{errors.New("connection reset"), false},
	} {
		if got := (Dialect{}).IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
}
