#!/usr/bin/env node
// The whole exchange of a CRM integration with complaintkit, printed request by request:
//
//   1. register a complaint from a CRM case, with an Idempotency-Key; send it again (a retry
//      after a timeout): the same answer, nothing stored twice;
//   2. read it back and keep its ETag; acknowledge it with If-Match;
//   3. what a stale If-Match (412) and a bad token (401) look like: problem+json;
//   4. correct its cause label by hand, then assess it (on 412: read again, decide again);
//   5. send the day's backlog as one batch;
//   6. page through what was registered since the run began, with the cursor;
//   7. fetch a report as CSV.
//
//   COMPLAINTKIT_URL=http://127.0.0.1:8000 COMPLAINTKIT_TOKEN=ck_… node exchange.mjs
//
// COMPLAINTKIT_CRM_CASE names the CRM case (default: a new WK-… id per run). Exit code 0 when
// every answer was the one expected, 1 otherwise (the message says which; also when the case
// was registered by an earlier run: its intake is answered as a replay), 2 for bad usage.
// The last line is RESULT followed by a JSON summary, for scripts.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { ComplaintkitClient, ProblemError } from "./complaintkit-client.mjs";

// Text from the server is printed with control characters (terminal escapes, bidi overrides)
// shown as \u escapes, so that a complaint's text cannot drive the reader's terminal.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const inert = (text) =>
  String(text).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const clip = (text, size = 150) => (text.length > size ? `${text.slice(0, size - 1)}…` : text);

function say(line = "") {
  process.stdout.write(`${inert(line)}\n`);
}

/** The response headers an integrator cares about, in the order they matter. */
const SHOWN = [
  "etag",
  "location",
  "idempotent-replayed",
  "next-cursor",
  "www-authenticate",
  "retry-after",
  "complaintkit-warning",
];

/** A short line for an answer's body: a complaint, a page, a problem, a report. */
function summary(body) {
  if (Array.isArray(body)) {
    return `[${body.length} complaints] ${body.map((c) => c.reference).join(" ")}`;
  }
  if (body && typeof body === "object" && "reference" in body && "status" in body) {
    const labels = Object.entries(body.labels ?? {})
      .map(([scheme, l]) => `${scheme}=${l.label}`)
      .join(",");
    return `${body.reference} status=${body.status} version=${body.version} labels=${labels}`;
  }
  if (typeof body === "string") {
    const lines = body.split(/\r?\n/).filter(Boolean);
    return lines.slice(0, 8).join("\n   ") + (lines.length > 8 ? "\n   …" : "");
  }
  return clip(JSON.stringify(body), 400);
}

/** Print one request and its answer, briefly (the secret is shortened). */
function show(exchange) {
  const url = new URL(exchange.url);
  const sent = Object.entries(exchange.requestHeaders)
    .filter(([name]) => name !== "Content-Type")
    .map(([name, value]) =>
      name === "Authorization" ? `${name}: ${value.slice(0, 13)}…` : `${name}: ${value}`,
    );
  const path = decodeURIComponent(url.pathname); // Chinese names shown as they were given
  say(`→ ${exchange.method} ${path}${url.search}   ${sent.join("   ")}`);
  if (exchange.requestBody !== undefined) say(`   ${clip(JSON.stringify(exchange.requestBody))}`);
  const got = SHOWN.filter((name) => exchange.responseHeaders.has(name)).map(
    (name) => `${name}: ${exchange.responseHeaders.get(name)}`,
  );
  const type = exchange.responseHeaders.get("content-type");
  say(`← ${exchange.status} ${exchange.statusText}   ${[`content-type: ${type}`, ...got].join("   ")}`);
  say(`   ${summary(exchange.body)}`);
}

function step(title) {
  say();
  say(`── ${title}`);
}

/** The ProblemError a promise is expected to reject with, printed. */
async function problemOf(promise) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  assert.fail("the request succeeded; a problem answer was expected");
}

async function main() {
  const baseUrl = process.env.COMPLAINTKIT_URL ?? "http://127.0.0.1:8000";
  const token = process.env.COMPLAINTKIT_TOKEN;
  if (!token) {
    process.stderr.write(
      "COMPLAINTKIT_TOKEN is not set: create one with\n" +
        "  complaintkit token create --name wukongcrm --role agent\n" +
        "and run COMPLAINTKIT_TOKEN=<the secret> node exchange.mjs\n",
    );
    return 2;
  }
  const crmCase = process.env.COMPLAINTKIT_CRM_CASE ?? `WK-${randomBytes(3).toString("hex")}`;
  // Complaints received from this second on are this run's (the list and report filter).
  const since = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
  const client = new ComplaintkitClient({ baseUrl, token, onExchange: show });
  say(`complaintkit at ${baseUrl}, CRM case ${crmCase}`);

  step("1. Register the CRM case's complaint, with an Idempotency-Key; then retry it");
  const idempotencyKey = `wukongcrm-case-${crmCase}`;
  const complaint = {
    text: "手机屏幕碎了，在保修期内售后却拒绝维修，要求退款",
    channel: "phone",
    name: "张伟",
    phone: "13800138000",
    customer_id: "WK-CUST-1024",
    product: "X20 手机",
    remedy: "refund",
    tags: ["wukongcrm"],
    fields: { crm_case: crmCase },
  };
  const first = await client.register(complaint, { idempotencyKey });
  if (first.replayed) {
    // The key was used before: this case was registered by an earlier run, once.
    process.stderr.write(
      `CRM case ${crmCase} was already registered (${first.complaint.reference}) by an ` +
        "earlier run with this token; nothing was stored again. Run with another " +
        "COMPLAINTKIT_CRM_CASE to see the whole exchange.\n",
    );
    return 1;
  }
  const retry = await client.register(complaint, { idempotencyKey });
  assert.equal(retry.replayed, true, "the retry must be answered with Idempotent-Replayed: true");
  assert.equal(retry.complaint.reference, first.complaint.reference, "the retry's reference");
  const reference = first.complaint.reference;
  say(`   the retry was answered with the first answer: one complaint, ${reference}`);

  step("2. Read it back, keep its ETag, acknowledge it with If-Match");
  const read = await client.get(reference);
  assert.equal(read.etag, '"1"');
  const acknowledged = await client.transition(reference, "acknowledge", {
    ifMatch: read.etag,
    reason: "customer called back by the CRM agent",
  });
  assert.equal(acknowledged.complaint.status, "acknowledged");
  assert.equal(acknowledged.etag, '"2"');

  step("3a. A stale If-Match: the version read before acknowledging (412)");
  const stale = await problemOf(
    client.transition(reference, "assess", { ifMatch: read.etag }),
  );
  assert.equal(stale.status, 412);
  assert.equal(stale.kind, "stale");
  assert.equal(stale.etag, '"2"', "a 412 carries the current ETag");
  assert.match(stale.headers.get("content-type"), /^application\/problem\+json/);
  say(`   nothing was written; the current version is ${stale.etag}: read again, decide again`);

  step("3b. A bad token (401)");
  const stranger = new ComplaintkitClient({
    baseUrl,
    token: `ck_${"0".repeat(43)}`,
    onExchange: show,
  });
  const refused = await problemOf(stranger.get(reference));
  assert.equal(refused.status, 401);
  assert.equal(refused.kind, "bad-token");
  assert.equal(refused.headers.get("www-authenticate"), "Bearer");
  assert.match(refused.headers.get("content-type"), /^application\/problem\+json/);

  step("4. Correct its cause by hand (Chinese names work too), then assess it");
  // update(): read, change with the ETag just read, and on 412 read again and change again.
  const labelled = await client.update(reference, (_, etag) =>
    client.label(reference, "投诉原因", "产品质量", {
      ifMatch: etag,
      reason: "the screen cracked by itself within the warranty: a product fault",
    }),
  );
  assert.equal(labelled.complaint.labels.cause.label, "product_quality");
  const assessed = await client.transition(reference, "assess", { ifMatch: labelled.etag });
  assert.equal(assessed.complaint.status, "assessed");

  step("5. Send the day's backlog as one batch (Idempotency-Key too)");
  const backlog = ["快递晚到三天", "客服态度差，电话一直打不通", "发票开错了，要求重开"].map(
    (text, i) => ({ text, channel: "email", fields: { crm_case: `${crmCase}-${i + 1}` } }),
  );
  const batch = await client.registerMany(backlog, {
    idempotencyKey: `wukongcrm-backlog-${crmCase}`,
  });
  assert.equal(batch.added, 3);
  assert.deepEqual(batch.refused, []);

  step(`6. Page through everything received since ${since}, two at a time`);
  const seen = [];
  for await (const page of client.pages({ since }, { limit: 2 })) {
    assert.ok(page.length <= 2, "a page holds at most limit complaints");
    seen.push(...page.map((c) => c.reference));
  }
  assert.equal(new Set(seen).size, seen.length, "no complaint is listed twice");
  for (const ours of [reference, ...batch.references]) {
    assert.ok(seen.includes(ours), `${ours} must be listed`);
  }
  say(`   ${seen.length} complaints in ${Math.ceil(seen.length / 2)} pages, none twice`);

  step("7. The summary report of this run as CSV");
  const report = await client.report("summary", { format: "csv", filters: { since } });
  assert.match(report.contentType, /^text\/csv/);
  assert.match(report.text, /^table,item,count,share/);

  step("The complaint's history: every change made by this token's name");
  const final = await client.get(reference);
  for (const event of final.complaint.history) {
    say(`   ${event.at}  ${event.actor.padEnd(12)} ${event.action}`);
  }
  const actors = new Set(final.complaint.history.map((event) => event.actor));
  assert.equal(actors.size, 1, "one actor: the token's name");

  say();
  say(
    `RESULT ${JSON.stringify({
      reference,
      crm_case: crmCase,
      status: final.complaint.status,
      etag: final.etag,
      actor: [...actors][0],
      backlog: batch.references,
      listed: seen.length,
    })}`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`exchange failed: ${inert(error.stack ?? error)}\n`);
    process.exitCode = 1;
  },
);
