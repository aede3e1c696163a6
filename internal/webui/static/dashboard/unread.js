// Unread counts of the inbox: for each open conversation, the messages others wrote since the
// agent last had it on screen. Every frame of the project's list carries the conversation's last
// message (attributes.last_message), so a count goes up once per new last message; one missed
// while the inbox was closed counts as one. Kept in localStorage, so a reload keeps the counts.
import { session } from "./client.js";

function myID() {
  return session.user?._id || session.user?.id;
}

// last is the conversation's last message as a key and whether the agent wrote it. Before a
// second message there is none: the first is the requester's.
function last(r) {
  const m = r.attributes?.last_message;
  if (m && m._id) return { key: m._id, mine: m.sender === myID() };
  const requester = r.requester?.id_user?._id || r.requester?.id_user;
  return { key: "first", mine: requester === myID() };
}

export class Unread {
  constructor(pid) {
    this.storageKey = `tiledesk:${pid}:${myID()}:unread`;
    try {
      this.seen = JSON.parse(localStorage.getItem(this.storageKey) || "{}") || {};
    } catch {
      this.seen = {};
    }
  }

  count(rid) {
    return this.seen[rid]?.n || 0;
  }

  // total is the sum of the counts of the conversations rids.
  total(rids) {
    return rids.reduce((sum, rid) => sum + this.count(rid), 0);
  }

  // note takes a version of a conversation; onScreen says the agent is looking at it.
  note(r, onScreen, closed) {
    const rid = r.request_id;
    if (closed) {
      delete this.seen[rid];
    } else {
      const { key, mine } = last(r);
      const prev = this.seen[rid];
      if (onScreen || mine) this.seen[rid] = { k: key, n: 0 };
      else if (!prev || prev.k !== key) this.seen[rid] = { k: key, n: (prev?.n || 0) + 1 };
    }
    this.save();
  }

  // read clears a conversation's count.
  read(rid) {
    if (this.seen[rid]?.n) {
      this.seen[rid].n = 0;
      this.save();
    }
  }

  save() {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(this.seen));
    } catch {
      // A full or disabled storage loses the counts at the next reload, nothing else.
    }
  }
}
