// A CRM-side client of the complaintkit HTTP API (docs/api.md), for Node.js 18 or later with
// nothing to install: it uses the built-in fetch. Copy it into a CRM's Node service, or read it
// as the recipe for a Java or PHP client: every method is one HTTP request, shown in
// README.md beside the same request as a curl line.
//
// What a client must do, and this one does:
//   * send `Authorization: Bearer <secret>` (a token made by `complaintkit token create`);
//   * send an `Idempotency-Key` with every intake, so that a retry after a timeout never
//     registers the complaint twice;
//   * keep the `ETag` of what it read and send it back as `If-Match` with every change; a 412
//     means someone changed the complaint first: read it again and decide again;
//   * read errors as application/problem+json (RFC 9457): `status`, `title`, `detail` (the
//     words the command line prints), `type` (urn:complaintkit:problem:<kind>);
//   * follow the `Next-Cursor` header to page through a list.

/** An error answer of the API: the parsed application/problem+json body and the status. */
export class ProblemError extends Error {
  /**
   * @param {number} status the HTTP status
   * @param {Record<string, any>} problem the problem+json body (type, title, status, detail, …)
   * @param {Headers} headers the answer's headers (a 412 has the current `ETag`)
   */
  constructor(status, problem, headers) {
    super(`${status} ${problem.title ?? ""}: ${problem.detail ?? ""}`.trim());
    this.name = "ProblemError";
    this.status = status;
    this.problem = problem;
    this.headers = headers;
  }

  /** The kind of problem: the end of its type URI (`stale`, `bad-token`, `forbidden`, …). */
  get kind() {
    return String(this.problem.type ?? "").split(":").pop();
  }

  /** The current version's ETag, which a 412 answer carries. */
  get etag() {
    return this.headers.get("etag");
  }
}

/** An answer that is not an HTTP answer at all (no server, a timeout, a closed connection). */
export class TransportError extends Error {
  constructor(message, cause) {
    super(message, { cause });
    this.name = "TransportError";
  }
}

/** Problems after which an intake is sent again: the first still running; the store failed. */
const RETRIABLE = new Set(["idempotent-request-in-progress", "storage"]);

/** A client of one complaintkit server with one token. */
export class ComplaintkitClient {
  /**
   * @param {object} options
   * @param {string} options.baseUrl e.g. http://127.0.0.1:8000
   * @param {string} options.token the secret `complaintkit token create` printed
   * @param {number} [options.timeoutMs] per request (default 30 s)
   * @param {(exchange: object) => void} [options.onExchange] called after every request with
   *   {method, url, requestHeaders, requestBody, status, responseHeaders, body}: to log it
   */
  constructor({ baseUrl, token, timeoutMs = 30_000, onExchange = () => {} }) {
    if (!baseUrl) throw new TypeError("baseUrl is required (e.g. http://127.0.0.1:8000)");
    if (!token) throw new TypeError("token is required (complaintkit token create …)");
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
    this.timeoutMs = timeoutMs;
    this.onExchange = onExchange;
  }

  /**
   * One request. Resolves to {status, headers, body} for a 2xx answer (body: parsed JSON for
   * JSON answers, text otherwise); rejects with a ProblemError for any other answer.
   */
  async request(method, path, { query = {}, body, headers = {} } = {}) {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      for (const one of [value].flat()) {
        if (one !== undefined && one !== null) url.searchParams.append(name, String(one));
      }
    }
    const requestHeaders = { Authorization: `Bearer ${this.token}`, ...headers };
    let payload;
    if (body !== undefined) {
      requestHeaders["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: requestHeaders,
        body: payload,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new TransportError(`${method} ${url} failed: ${error.message}`, error);
    }
    const type = response.headers.get("content-type") ?? "";
    const text = await response.text();
    const parsed = /json/.test(type) && text ? JSON.parse(text) : text;
    this.onExchange({
      method,
      url: url.toString(),
      requestHeaders,
      requestBody: body,
      status: response.status,
      statusText: response.statusText,
      responseHeaders: response.headers,
      body: parsed,
    });
    if (!response.ok) {
      const problem =
        typeof parsed === "object" && parsed !== null
          ? parsed
          : { title: response.statusText, status: response.status, detail: text };
      throw new ProblemError(response.status, problem, response.headers);
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /**
   * POST with an Idempotency-Key, sent again (same key, same body) after a transport error,
   * a 409 "still running" or a 503, up to `attempts` times: the server answers a repeat with
   * the first answer and stores nothing twice.
   */
  async #idempotentPost(path, body, idempotencyKey, attempts) {
    if (!idempotencyKey) throw new TypeError("an Idempotency-Key is required for intake");
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.request("POST", path, {
          body,
          headers: { "Idempotency-Key": idempotencyKey },
        });
      } catch (error) {
        const retriable =
          error instanceof TransportError ||
          (error instanceof ProblemError && RETRIABLE.has(error.kind));
        if (!retriable || attempt >= attempts) throw error;
        const wait = Number(error.headers?.get?.("retry-after") ?? 1);
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5) * 1000));
      }
    }
  }

  /**
   * Register one complaint. `complaint` has the fields of `complaintkit add`: text (required),
   * title, channel, name, phone, email, customer_id, product, order, remedy, reference,
   * received_at, tags, fields (custom fields). Resolves to {complaint, etag, replayed}.
   */
  async register(complaint, { idempotencyKey, attempts = 3 } = {}) {
    const answer = await this.#idempotentPost("/complaints", complaint, idempotencyKey, attempts);
    return {
      complaint: answer.body,
      etag: answer.headers.get("etag"),
      replayed: answer.headers.get("idempotent-replayed") === "true",
    };
  }

  /** Register many complaints at once: {added, skipped, refused, references}. */
  async registerMany(complaints, { idempotencyKey, attempts = 3 } = {}) {
    const answer = await this.#idempotentPost(
      "/complaints/batch",
      { complaints },
      idempotencyKey,
      attempts,
    );
    return { ...answer.body, replayed: answer.headers.get("idempotent-replayed") === "true" };
  }

  /** One complaint with its history, and its ETag: {complaint, etag}. */
  async get(reference) {
    const answer = await this.request("GET", `/complaints/${encodeURIComponent(reference)}`);
    return { complaint: answer.body, etag: answer.headers.get("etag") };
  }

  async #change(method, reference, tail, body, ifMatch) {
    if (!ifMatch) throw new TypeError("a change needs ifMatch: the ETag of the version you read");
    const answer = await this.request(
      method,
      `/complaints/${encodeURIComponent(reference)}${tail}`,
      { body, headers: { "If-Match": ifMatch } },
    );
    return { complaint: answer.body, etag: answer.headers.get("etag") };
  }

  /** Move a complaint on: action acknowledge, assess, investigate, propose (with solution), … */
  transition(reference, action, { ifMatch, reason, solution, satisfaction } = {}) {
    return this.#change(
      "POST",
      reference,
      "/transitions",
      { action, reason, solution, satisfaction },
      ifMatch,
    );
  }

  /** Set a label by hand in a scheme (English or Chinese names), e.g. severity = serious. */
  label(reference, scheme, label, { ifMatch, reason } = {}) {
    return this.#change(
      "PUT",
      reference,
      `/labels/${encodeURIComponent(scheme)}`,
      { label, reason },
      ifMatch,
    );
  }

  /** Assign to a department and/or a person. */
  assign(reference, { ifMatch, department, assignee, reason } = {}) {
    return this.#change("PUT", reference, "/assignment", { department, assignee, reason }, ifMatch);
  }

  /**
   * Read, decide, write; on 412 (someone else changed it meanwhile) read again and decide
   * again, up to `attempts` times. `decide(complaint, etag)` makes the change and resolves to
   * what the change resolved to (or to null: nothing to do any more).
   */
  async update(reference, decide, { attempts = 3 } = {}) {
    for (let attempt = 1; ; attempt += 1) {
      const { complaint, etag } = await this.get(reference);
      try {
        return await decide(complaint, etag);
      } catch (error) {
        if (!(error instanceof ProblemError && error.status === 412) || attempt >= attempts) {
          throw error;
        }
      }
    }
  }

  /**
   * One page of the list: {complaints, nextCursor}. `filters` are the query parameters of
   * docs/api.md (status, channel, label, since, until, search, …).
   */
  async list(filters = {}, { limit = 50, cursor } = {}) {
    const answer = await this.request("GET", "/complaints", {
      query: { ...filters, limit, cursor },
    });
    return { complaints: answer.body, nextCursor: answer.headers.get("next-cursor") };
  }

  /** Every page of the list, one page at a time, following Next-Cursor. */
  async *pages(filters = {}, { limit = 50 } = {}) {
    let cursor;
    do {
      const page = await this.list(filters, { limit, cursor });
      yield page.complaints;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** A report as text in a format (csv, markdown, html, table, json), e.g. summary as CSV. */
  async report(name, { format = "csv", lang, filters = {} } = {}) {
    const answer = await this.request("GET", `/reports/${encodeURIComponent(name)}`, {
      query: { ...filters, format, lang },
    });
    return {
      text: typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body),
      contentType: answer.headers.get("content-type"),
    };
  }
}
