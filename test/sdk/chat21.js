// Drives the official chat21 client (Chat21Client, shipped in @tiledesk/tiledesk-client, pinned
// in package-lock.json) against a running server, TILEDESK_URL, as the official widget and agent
// app use it: a visitor signs in anonymously, gets a chat token, connects over MQTT and writes to
// a new support group; an agent connected the same way gets the message; the agent's answer
// through the REST API reaches the visitor, whose pending bubble is matched by attributes.tempUID;
// the client reads the conversation and its group over the chat REST routes, leaves and joins it
// again (getting the history), and sees the conversation archived once it is closed. Then the agent
// writes directly to the visitor (who acknowledges it) and in a chat group made with groupCreate.
//
//   TILEDESK_URL=http://127.0.0.1:3000 node chat21.js
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Chat21Client } = require('@tiledesk/tiledesk-client/chat21client.js');

const base = process.env.TILEDESK_URL;
if (!base) {
  console.error('TILEDESK_URL is not set');
  process.exit(2);
}
const mqttEndpoint = base.replace(/^http/, 'ws') + '/mqws/ws';

async function call(method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = token;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// connected is a Chat21Client connected with the chat token of an API token.
async function connected(apiToken) {
  const who = await call('POST', '/chat21/native/auth/createCustomToken', undefined, apiToken);
  assert.ok(who.userid && who.token, `createCustomToken answered ${JSON.stringify(who)}`);
  const client = new Chat21Client({ MQTTendpoint: mqttEndpoint, appId: 'tilechat', APIendpoint: base + '/chatapi/api' });
  const received = [];
  const waiters = [];
  client.onMessageAdded((message, topic) => {
    received.push({ message, topic });
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise((resolve) => client.connect(who.userid, who.token, resolve));
  // waitFor resolves with the first message received that matches.
  client.waitFor = (match, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${who.userid} did not receive ${what}`)), 10000);
    const check = () => {
      const found = received.find((r) => match(r.message));
      if (found) {
        clearTimeout(timer);
        resolve(found);
      } else {
        waiters.push(check);
      }
    };
    check();
  });
  client.userid = who.userid;
  return client;
}

async function main() {
  const suffix = crypto.randomUUID().slice(0, 8);
  const email = `agent-${suffix}@example.com`;
  await call('POST', '/auth/signup', { email, password: 'Passw0rd!', firstname: 'Ada', lastname: 'Agent' });
  const agentToken = (await call('POST', '/auth/signin', { email, password: 'Passw0rd!' })).token;
  const project = await call('POST', '/projects', { name: 'Chat21 ' + suffix }, agentToken);
  const visitorToken = (await call('POST', '/auth/signinAnonymously', { id_project: project._id, firstname: 'Vera' })).token;

  const visitor = await connected(visitorToken);
  const agent = await connected(agentToken);
  const group = `support-group-${project._id}-${crypto.randomUUID().replace(/-/g, '')}`;
  const tempUID = crypto.randomUUID();
  await new Promise((resolve, reject) => visitor.sendMessage('Hello from the official client', 'text', group, 'Support', 'Vera',
    { tempUID, projectId: project._id }, null, 'group', (err) => (err ? reject(err) : resolve())));

  const echo = await visitor.waitFor((m) => m.attributes && m.attributes.tempUID === tempUID, 'its echo');
  assert.equal(echo.topic.conversWith, group);
  assert.equal(echo.message.sender, visitor.userid);
  assert.equal(echo.message.text, 'Hello from the official client');
  console.log('ok   the visitor gets its message back, tempUID untouched');
  await agent.waitFor((m) => m.text === 'Hello from the official client' && m.recipient === group, 'the visitor\'s message');
  console.log('ok   the agent routed to the conversation gets it');

  const request = await call('GET', `/${project._id}/requests/${group}`, undefined, agentToken);
  assert.equal(request.first_text, 'Hello from the official client');
  console.log('ok   the first message created the conversation');

  await call('POST', `/${project._id}/requests/${group}/messages`, { text: 'Hi Vera, how can I help?' }, agentToken);
  const answer = await visitor.waitFor((m) => m.text === 'Hi Vera, how can I help?', 'the agent\'s answer');
  assert.equal(answer.topic.conversWith, group);
  console.log('ok   the agent\'s answer through the REST API reaches the visitor');

  const detail = await new Promise((resolve, reject) => visitor.conversationDetail(group, (err, c) => (err ? reject(err) : resolve(c))));
  assert.ok(detail, 'conversationDetail found no conversation');
  assert.equal(detail.conversWith, group);
  assert.equal(detail.text, 'Hi Vera, how can I help?');
  const groupData = await new Promise((resolve, reject) => visitor.groupData(group, (err, g) => (err ? reject(err) : resolve(g))));
  assert.equal(groupData.result.uid, group);
  assert.ok(groupData.result.members[visitor.userid] && groupData.result.members[agent.userid], JSON.stringify(groupData));
  console.log('ok   conversationDetail and groupData read the conversation and its members');

  // The agent leaves the conversation through the client's groupLeave, and joins it again with
  // groupJoin: it gets the history, marked as such.
  await new Promise((resolve, reject) => agent.groupLeave(group, agent.userid, (err) => (err ? reject(err) : resolve())));
  await new Promise((resolve, reject) => agent.groupJoin(group, agent.userid, (err) => (err ? reject(err) : resolve())));
  const history = await agent.waitFor((m) => m.text === 'Hello from the official client' && m.__history === 'true', 'the history on joining');
  assert.equal(history.topic.conversWith, group);
  console.log('ok   groupLeave and groupJoin change the members; who joins gets the history');

  await call('PUT', `/${project._id}/requests/${group}/close`, undefined, agentToken);
  const archived = await new Promise((resolve, reject) => visitor.archivedConversationDetail(group, (err, c) => (err ? reject(err) : resolve(c))));
  assert.ok(archived && archived.archived, `archivedConversationDetail answered ${JSON.stringify(archived)}`);
  const open = await new Promise((resolve, reject) => visitor.conversationDetail(group, (err, c) => (err ? reject(err) : resolve(c))));
  assert.equal(open, null);
  console.log('ok   closed, the conversation is archived');

  await directAndGroups(agent, visitor, suffix);

  await new Promise((resolve) => visitor.close(resolve));
  await new Promise((resolve) => agent.close(resolve));
  console.log('10 passed, 0 failed');
}

// directAndGroups has the agent write directly to the visitor (a member of its project), who
// acknowledges it, and make a chat group with the client's groupCreate and write in it.
async function directAndGroups(agent, visitor, suffix) {
  const receipts = [];
  agent.onMessageUpdated((patch) => receipts.push(patch));
  const tempUID = crypto.randomUUID();
  await new Promise((resolve, reject) => agent.sendMessage('A word in private', 'text', visitor.userid, 'Vera', 'Ada Agent',
    { tempUID }, null, 'direct', (err) => (err ? reject(err) : resolve())));
  const echo = await agent.waitFor((m) => m.attributes && m.attributes.tempUID === tempUID, 'its direct message back');
  assert.equal(echo.topic.conversWith, visitor.userid);
  assert.equal(echo.message.status, 100);
  const got = await visitor.waitFor((m) => m.text === 'A word in private', 'the direct message');
  assert.equal(got.topic.conversWith, agent.userid);
  assert.equal(got.message.status, 150);
  console.log('ok   a direct message reaches its recipient, and comes back to its sender');

  await new Promise((resolve, reject) => visitor.updateMessageStatus(got.message.message_id, agent.userid, 200, (err) => (err ? reject(err) : resolve())));
  for (let i = 0; i < 100 && !receipts.some((r) => r.message_id === got.message.message_id); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const receipt = receipts.find((r) => r.message_id === got.message.message_id);
  assert.ok(receipt && receipt.status === 250, `receipts: ${JSON.stringify(receipts)}`);
  console.log('ok   the recipient\'s receipt reaches the sender');

  const gid = 'group-' + suffix;
  const created = await new Promise((resolve, reject) => agent.groupCreate('Team ' + suffix, gid, {},
    (err, json) => (err ? reject(err) : resolve(json))));
  assert.equal(created.group.uid, gid);
  await agent.waitFor((m) => m.recipient === gid && m.attributes && m.attributes.messagelabel &&
    m.attributes.messagelabel.key === 'GROUP_CREATED', 'the group\'s creation');
  await new Promise((resolve, reject) => agent.sendMessage('Notes for the team', 'text', gid, 'Team', 'Ada Agent',
    {}, null, 'group', (err) => (err ? reject(err) : resolve())));
  await agent.waitFor((m) => m.text === 'Notes for the team' && m.recipient === gid, 'the group\'s message');
  // lastConversations reads with XMLHttpRequest, which Node lacks: the same call, made here.
  const convs = (await call('GET', `/chatapi/api/tilechat/${agent.userid}/conversations`, undefined, agent.jwt)).result;
  const withs = convs.map((c) => c.conversWith);
  assert.ok(withs.includes(gid) && withs.includes(visitor.userid), JSON.stringify(withs));
  console.log('ok   groupCreate makes a chat group its members write in, listed with the direct chat');
}

main().catch((err) => {
  console.error('FAILED:', err && err.stack ? err.stack : err);
  process.exit(1);
});
