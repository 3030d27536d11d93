// Samverkan's embeddable feed: the network's dialogues, proposals and goal progress on a
// partner's page, with one script tag and no dependencies.
//
//   <script src="https://samverkan.example.org/embed/samverkan.js" defer></script>
//   <samverkan-feed organisation="rsmh" lang="sv" token="svk_pt_..."></samverkan-feed>
//
// Attributes: organisation, authority or goal (a slug; none shows the whole network),
// token (a partner token bound to the page's origin), lang (sv or en).
// Theming: --samverkan-font, --samverkan-color, --samverkan-background,
// --samverkan-accent, --samverkan-muted, --samverkan-border.
// Requests are GETs of persisted queries (a hash, not the document), so the browser and
// any CDN between may cache them. Every text is inserted as text, never as markup.
(() => {
  "use strict";
  if (customElements.get("samverkan-feed")) return;

  // Filled in by the server: the feed's documents by kind, as operation name and hash.
  const DOCUMENTS = /*DOCUMENTS*/ {};
  const script = document.currentScript;
  const ENDPOINT = new URL("/graphql", script ? script.src : location.href).href;

  const WORDS = {
    sv: {
      network: "Nätverkets arbete",
      dialogues: "Senaste dialoger",
      proposals: "Förslag",
      goals: "Mål",
      loading: "Hämtar…",
      failed: "Uppgifterna kunde inte hämtas.",
      notFound: "Finns inte, eller är inte offentligt.",
      none: "Inget ännu.",
      of: (current, target) => `${current} av ${target}`,
      reached: "uppnått",
      with: "med",
      kinds: {
        MEETING: "Möte", LETTER: "Brev", CONSULTATION_RESPONSE: "Remissvar", SEMINAR: "Seminarium",
        CONFERENCE: "Konferens", CALL: "Samtal", OTHER: "Övrigt",
      },
      statuses: {
        DRAFT: "Utkast", OPEN_FOR_COMMENT: "På remiss i nätverket", ADOPTED: "Antaget",
        SUBMITTED: "Inlämnat", UNDER_CONSIDERATION: "Under behandling", ACCEPTED: "Genomfört",
        PARTIALLY_ACCEPTED: "Delvis genomfört", REJECTED: "Avslaget", WITHDRAWN: "Tillbakadraget",
      },
    },
    en: {
      network: "The network's work",
      dialogues: "Latest dialogues",
      proposals: "Proposals",
      goals: "Goals",
      loading: "Loading…",
      failed: "The data could not be loaded.",
      notFound: "Not found, or not public.",
      none: "Nothing yet.",
      of: (current, target) => `${current} of ${target}`,
      reached: "reached",
      with: "with",
      kinds: {
        MEETING: "Meeting", LETTER: "Letter", CONSULTATION_RESPONSE: "Consultation response",
        SEMINAR: "Seminar", CONFERENCE: "Conference", CALL: "Call", OTHER: "Other",
      },
      statuses: {
        DRAFT: "Draft", OPEN_FOR_COMMENT: "Open for comment", ADOPTED: "Adopted",
        SUBMITTED: "Submitted", UNDER_CONSIDERATION: "Under consideration", ACCEPTED: "Accepted",
        PARTIALLY_ACCEPTED: "Partially accepted", REJECTED: "Rejected", WITHDRAWN: "Withdrawn",
      },
    },
  };

  const STYLE = `
    :host { display: block; font-family: var(--samverkan-font, system-ui, sans-serif);
      color: var(--samverkan-color, #1b1b1b); background: var(--samverkan-background, #ffffff);
      border: 1px solid var(--samverkan-border, #767676); border-radius: 6px; padding: 1rem; }
    :host([hidden]) { display: none; }
    h2 { font-size: 1.25rem; margin: 0 0 .75rem; color: var(--samverkan-accent, #0b4f8a); }
    h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { padding: .4rem 0; border-top: 1px solid var(--samverkan-border, #767676); }
    li:first-child { border-top: none; }
    .meta { color: var(--samverkan-muted, #4a4a4a); font-size: .875rem; }
    .status { display: inline-block; border: 1px solid currentColor; border-radius: 3px;
      padding: 0 .3rem; font-size: .8rem; margin-inline-start: .4rem; }
    progress { width: 100%; height: .75rem; accent-color: var(--samverkan-accent, #0b4f8a); }
    a { color: var(--samverkan-accent, #0b4f8a); }
    a:focus-visible { outline: 2px solid var(--samverkan-accent, #0b4f8a); outline-offset: 2px; }
  `;

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  let headings = 0;

  class SamverkanFeed extends HTMLElement {
    static get observedAttributes() {
      return ["organisation", "authority", "goal", "token", "lang"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.generation = 0;
    }

    connectedCallback() {
      this.schedule();
    }

    attributeChangedCallback() {
      this.schedule();
    }

    /** One load for the attributes set together (an upgrade sets them one by one). */
    schedule() {
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        if (this.isConnected) this.load();
      });
    }

    get words() {
      return WORDS[this.getAttribute("lang") === "en" ? "en" : "sv"];
    }

    /** What to show: [kind, slug]. */
    get subject() {
      for (const kind of ["goal", "authority", "organisation"]) {
        const slug = this.getAttribute(kind);
        if (slug) return [kind, slug];
      }
      return ["network", null];
    }

    async load() {
      const generation = ++this.generation;
      const [kind, slug] = this.subject;
      this.show(el("p", { role: "status" }, this.words.loading));
      const document_ = DOCUMENTS[kind];
      const url = new URL(ENDPOINT);
      url.searchParams.set("operationName", document_.name);
      if (slug) url.searchParams.set("variables", JSON.stringify({ slug }));
      url.searchParams.set(
        "extensions",
        JSON.stringify({ persistedQuery: { version: 1, sha256Hash: document_.hash } }),
      );
      const headers = { accept: "application/graphql-response+json, application/json" };
      const token = this.getAttribute("token");
      if (token) headers["x-api-key"] = token;
      let body;
      try {
        const response = await fetch(url, { headers, credentials: "omit" });
        body = await response.json();
      } catch (error) {
        body = { errors: [{ message: String(error) }] };
      }
      if (generation !== this.generation) return;
      const data = body && body.data;
      if (!data) {
        const message = body && body.errors && body.errors[0] && body.errors[0].message;
        this.show(el("p", { role: "alert" }, this.words.failed, message ? ` (${message})` : ""));
      } else {
        this.show(this.render(kind, data));
      }
      this.dispatchEvent(new CustomEvent("samverkan-rendered", { bubbles: true, composed: true }));
    }

    show(content) {
      const lang = this.getAttribute("lang") === "en" ? "en" : "sv";
      this.shadowRoot.replaceChildren(el("style", {}, STYLE), el("div", { lang }, content));
    }

    render(kind, data) {
      const words = this.words;
      const id = `samverkan-feed-${++headings}`;
      let sections = 0;
      const section = (title, items) => {
        const headingId = `${id}-${++sections}`;
        return el(
          "section",
          { "aria-labelledby": headingId },
          el("h3", { id: headingId }, title),
          items.length ? el("ul", {}, items) : el("p", {}, words.none),
        );
      };
      const nodes = (connection) => (connection && connection.nodes) || [];
      if (kind === "goal") {
        if (!data.goal) return el("p", {}, words.notFound);
        return el("article", { "aria-labelledby": id },
          el("h2", { id }, data.goal.title),
          el("p", {}, data.goal.description),
          this.progress(data.goal));
      }
      const subject = kind === "network" ? { name: words.network } : data[kind];
      if (!subject) return el("p", {}, words.notFound);
      const dialogues = nodes(kind === "network" ? data.dialogues : subject.dialogues);
      const proposals = nodes(kind === "network" ? data.proposals : subject.proposals);
      const goals = nodes(data.goals);
      return el("article", { "aria-labelledby": id },
        el("h2", { id }, subject.name),
        section(words.dialogues, dialogues.map((d) => this.dialogue(d))),
        kind === "authority" ? null : section(words.proposals, proposals.map((p) => this.proposal(p))),
        kind === "network" ? section(words.goals, goals.map((g) => el("li", {}, this.progress(g)))) : null);
    }

    date(day) {
      const lang = this.getAttribute("lang") === "en" ? "en-GB" : "sv-SE";
      const text = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" })
        .format(new Date(`${day}T00:00:00Z`));
      return el("time", { datetime: day }, text);
    }

    dialogue(d) {
      const words = this.words;
      const parties = [...(d.authorities || []), ...(d.organisations || [])].map((p) => p.name);
      return el("li", {},
        el("div", {}, d.title),
        el("div", { class: "meta" },
          this.date(d.heldOn), " · ", words.kinds[d.kind] || d.kind,
          parties.length ? ` · ${words.with} ${parties.join(", ")}` : ""));
    }

    proposal(p) {
      const words = this.words;
      return el("li", {},
        el("span", {}, p.title),
        el("span", { class: "status", "data-status": p.status }, words.statuses[p.status] || p.status));
    }

    progress(goal) {
      const words = this.words;
      const { current, target, reached } = goal.progress;
      const label = `${goal.title}: ${words.of(current, target)}${reached ? `, ${words.reached}` : ""}`;
      return el("div", {},
        el("div", {}, goal.title),
        el("progress", { max: target, value: Math.min(current, target), "aria-label": label }),
        el("div", { class: "meta" }, words.of(current, target), reached ? ` · ${words.reached}` : ""));
    }
  }

  customElements.define("samverkan-feed", SamverkanFeed);
})();
