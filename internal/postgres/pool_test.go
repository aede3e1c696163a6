package postgres

import (
	"errors"
	"fmt"
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

func TestTakePoolSize(t *testing.T) {
	dsn, n, err := takePoolSize("postgres://u@h/db?sslmode=disable&pool_max_conns=12")
	if err != nil || n != 12 || dsn != "postgres://u@h/db?sslmode=disable" {
		t.Errorf("got %q, %d, %v", dsn, n, err)
	}
	if dsn, n, err := takePoolSize("postgres://u@h/db"); err != nil || n != 0 || dsn != "postgres://u@h/db" {
		t.Errorf("without the parameter: %q, %d, %v", dsn, n, err)
	}
	for _, bad := range []string{"0", "-1", "x", "1001"} {
		if _, _, err := takePoolSize("postgres://u@h/db?pool_max_conns=" + bad); err == nil {
			t.Errorf("pool_max_conns=%s accepted", bad)
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
