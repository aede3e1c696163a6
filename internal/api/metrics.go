package api

import (
	"database/sql"
	"github.com/tiledesk-go/tiledesk"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus series. Route labels are route patterns or fixed labels, never
// raw paths, so that their number stays bounded whatever clients send.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	rejected *prometheus.CounterVec
}

// poolStats is what a store offers for the database pool metrics (sqlstore.Store does).
type poolStats interface {
	Stats() map[string]sql.DBStats
}

// degradable is a limiter that can report running on local fallback limits (ratelimit.Failover).
type degradable interface{ Degraded() bool }

func newMetrics(reg *prometheus.Registry, s *Server) *metrics {
	m := &metrics{reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiledesk_http_requests_total",
			Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tiledesk_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10)}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tiledesk_http_requests_in_flight",
			Help: "HTTP requests being served."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tiledesk_ratelimit_rejections_total",
			Help: "Requests refused with 429, by limit name."}, []string{"limit"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.rejected,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiledesk_http_reads_waiting",
			Help: "Reads (GET, HEAD) waiting for their turn to run (see --max-active-reads)."}, s.reads.waitingNow),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiledesk_maintenance",
			Help: "1 while maintenance mode is on."}, func() float64 { return b2f(s.maintenance.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiledesk_websocket_connections",
			Help: "Open websocket connections."}, func() float64 { n, _ := s.LiveStats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiledesk_websocket_subscriptions",
			Help: "Websocket subscriptions to topics."}, func() float64 { _, n := s.LiveStats(); return float64(n) }))
	if d, ok := s.limits.Limiter.(degradable); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tiledesk_ratelimit_degraded",
			Help: "1 while the shared limiter store is unreachable and limits are kept per process."},
			func() float64 { return b2f(d.Degraded()) }))
	}
	store := s.store
	if w, ok := store.(interface{ Unwrap() tiledesk.Store }); ok {
		store = w.Unwrap() // a caching layer has no pool of its own
	}
	if p, ok := store.(poolStats); ok {
		reg.MustRegister(dbCollector{p})
	}
	return m
}

func (m *metrics) observe(route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// dbCollector reads the database pools' statistics at scrape time.
type dbCollector struct{ store poolStats }

var (
	dbOpen    = prometheus.NewDesc("tiledesk_db_open_connections", "Open connections, by pool.", []string{"pool"}, nil)
	dbInUse   = prometheus.NewDesc("tiledesk_db_in_use_connections", "Connections in use, by pool.", []string{"pool"}, nil)
	dbIdle    = prometheus.NewDesc("tiledesk_db_idle_connections", "Idle connections, by pool.", []string{"pool"}, nil)
	dbMaxOpen = prometheus.NewDesc("tiledesk_db_max_open_connections", "Largest number of open connections, by pool (0: unlimited).", []string{"pool"}, nil)
	dbWaits   = prometheus.NewDesc("tiledesk_db_waits_total", "Times a query waited for a connection, by pool.", []string{"pool"}, nil)
	dbWaited  = prometheus.NewDesc("tiledesk_db_wait_seconds_total", "Time spent waiting for a connection, by pool.", []string{"pool"}, nil)

	dbReplyBatches   = prometheus.NewDesc("tiledesk_db_reply_batches_total", "Statements that wrote several replies at once (PostgreSQL).", nil, nil)
	dbBatchedReplies = prometheus.NewDesc("tiledesk_db_batched_replies_total", "Replies written by those statements.", nil, nil)
	dbKeptReplies    = prometheus.NewDesc("tiledesk_db_replies_on_kept_conversations_total",
		"Replies that took their conversation as this process last wrote it, without reading it (PostgreSQL).", nil, nil)

	dbCreationBatches  = prometheus.NewDesc("tiledesk_db_creation_batches_total", "Transactions that created several conversations with their first messages at once (PostgreSQL).", nil, nil)
	dbBatchedCreations = prometheus.NewDesc("tiledesk_db_batched_creations_total", "Conversations created by those transactions.", nil, nil)
	dbRefusedCreations = prometheus.NewDesc("tiledesk_db_refused_creation_batches_total",
		"Such transactions the database refused, whose conversations were then created one by one.", nil, nil)

	dbReadPlaces = prometheus.NewDesc("tiledesk_db_read_places", "Read statements run at once at most, the others queued (0: no bound).", nil, nil)
	dbReadWaits  = prometheus.NewDesc("tiledesk_db_read_waits_total", "Read statements that waited for their turn.", nil, nil)
	dbReadWaited = prometheus.NewDesc("tiledesk_db_read_wait_seconds_total", "Time read statements waited for their turn.", nil, nil)
)

// readQueueStats is a store that queues its reads (sqlstore's read gate).
type readQueueStats interface {
	ReadQueue() (places int, waits int64, waited time.Duration)
}

// creationBatchStats is a store that creates conversations together.
type creationBatchStats interface {
	CreationBatches() (batches, conversations, refused int64)
}

// replyBatchStats is a store that writes replies together.
type replyBatchStats interface {
	ReplyBatches() (statements, replies int64)
	RepliesOnKeptConversations() int64
}

func (dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpen, dbInUse, dbIdle, dbMaxOpen, dbWaits, dbWaited, dbReplyBatches, dbBatchedReplies, dbKeptReplies,
		dbCreationBatches, dbBatchedCreations, dbRefusedCreations, dbReadPlaces, dbReadWaits, dbReadWaited} {
		ch <- d
	}
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, st := range c.store.Stats() {
		ch <- prometheus.MustNewConstMetric(dbOpen, prometheus.GaugeValue, float64(st.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(dbInUse, prometheus.GaugeValue, float64(st.InUse), pool)
		ch <- prometheus.MustNewConstMetric(dbIdle, prometheus.GaugeValue, float64(st.Idle), pool)
		ch <- prometheus.MustNewConstMetric(dbMaxOpen, prometheus.GaugeValue, float64(st.MaxOpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(dbWaits, prometheus.CounterValue, float64(st.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(dbWaited, prometheus.CounterValue, st.WaitDuration.Seconds(), pool)
	}
	if b, ok := c.store.(replyBatchStats); ok {
		statements, replies := b.ReplyBatches()
		ch <- prometheus.MustNewConstMetric(dbReplyBatches, prometheus.CounterValue, float64(statements))
		ch <- prometheus.MustNewConstMetric(dbBatchedReplies, prometheus.CounterValue, float64(replies))
		ch <- prometheus.MustNewConstMetric(dbKeptReplies, prometheus.CounterValue, float64(b.RepliesOnKeptConversations()))
	}
	if b, ok := c.store.(creationBatchStats); ok {
		batches, conversations, refused := b.CreationBatches()
		ch <- prometheus.MustNewConstMetric(dbCreationBatches, prometheus.CounterValue, float64(batches))
		ch <- prometheus.MustNewConstMetric(dbBatchedCreations, prometheus.CounterValue, float64(conversations))
		ch <- prometheus.MustNewConstMetric(dbRefusedCreations, prometheus.CounterValue, float64(refused))
	}
	if q, ok := c.store.(readQueueStats); ok {
		places, waits, waited := q.ReadQueue()
		ch <- prometheus.MustNewConstMetric(dbReadPlaces, prometheus.GaugeValue, float64(places))
		ch <- prometheus.MustNewConstMetric(dbReadWaits, prometheus.CounterValue, float64(waits))
		ch <- prometheus.MustNewConstMetric(dbReadWaited, prometheus.CounterValue, waited.Seconds())
	}
}
