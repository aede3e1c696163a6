package postgres_test

import (
	"testing"

	"github.com/tiledesk-go/tiledesk"
	"github.com/tiledesk-go/tiledesk/internal/storetest"
)

// TestManyWriters runs the many-writers conformance test on three stores, each with its own pool
// (as three server processes have), on one database. The pools are small, as they would be for
// many processes, and so that the test leaves connections to the tests running beside it.
func TestManyWriters(t *testing.T) {
	dsn := freshSchema(t)
	stores := make([]tiledesk.Store, 3)
	for i := range stores {
		stores[i] = open(t, dsn+"&pool_max_conns=6")
	}
	storetest.ManyWriters(t, stores)
}

// TestRepliesAfterChangesElsewhere: a process that keeps what its replies wrote notices what
// another process changed since (see storetest.RepliesAfterChangesElsewhere).
func TestRepliesAfterChangesElsewhere(t *testing.T) {
	dsn := freshSchema(t)
	storetest.RepliesAfterChangesElsewhere(t, open(t, dsn+"&pool_max_conns=4"), open(t, dsn+"&pool_max_conns=4"))
}
