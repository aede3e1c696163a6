// Package views answers the reads of leads and conversations (Leads, Requests) from what it keeps
// in memory, checked against what the database holds now, so that an answer is never stale,
// whichever process made the change. The JSON shapes are internal/api's (Wire); the views only
// keep, look up and join the bytes it wrote.
//
// What is kept, in which file, and the invariant that keeps it fresh:
//
//   - rendercache.go: each lead's, conversation's, requester's JSON rendered at a version (its
//     updated_at, and its user's for a requester); used only when the database shows that version.
//   - leadorder.go: each project's default lead list (creation, id, version of every live lead),
//     read at a lead clock and used only while the clock reads the same.
//   - keptlists.go: the head of a lead list, and the ids and versions of a lookup by email or of a
//     sync feed, kept under the lead clock; a page of conversations a caller who sees everything
//     asks for, kept whole under the population clock (requests.go).
//   - populate.go: the departments and agents conversations show, kept under the population
//     clock's members' and users' parts.
//
// Every clock is read before what is kept under it, so that nothing is ever kept under a clock
// newer than what it shows. What a write path must do so that all of this holds (internal/sqlstore
// does it for every write it has; a new one, such as events, bots or webhooks writing leads or
// conversations, must do the same):
//
//   - A change of a lead or a conversation stamps the row's updated_at through leadClock or
//     requestClock: later than the row's previous version, so that two versions of one row never
//     share a stamp (with one writer, SQLite, the stamps of a whole project increase in commit
//     order).
//   - A change of a lead, of whatever kind (create, update, tag, either deletion, bulk load), also
//     moves project_counters.leads_clock in its transaction; a change of a conversation moves
//     requests_clock. The clocks are sums over the project's counter stripes, each change adding to
//     one: a sum that reads the same twice saw the same committed changes.
//   - A change of a membership or a user stamps a new updated_at (nextStamp: a millisecond after the
//     previous stamp when the clock has not moved). Triggers move members_clock on every change of a
//     membership or a department and the users clock on every change of a user (on PostgreSQL at
//     commit, in the writer's stripe): a table whose rows a populated conversation shows needs such
//     a trigger too.
//   - A store that keeps its clocks between its own writes (tiledesk.Clocks.KeptLeads: SQLite, the
//     only writer of its database) must count every commit of its own; a write that bypasses the
//     store (WriteDB) must stop the keeping. A store that reads clocks in rounds shared by
//     concurrent callers (PostgreSQL) must start every caller's round after its call.
//
// Lists are assembled from renderings: a list reads only which objects, at which versions
// (tiledesk.ViewStore), takes the renderings kept at those versions, and reads and renders only
// the others.
package views
