// ntsec web app: the little behaviour the pages need; everything works without it.
// Loaded from this server only (the Content-Security-Policy allows no inline script).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Typing or pasting a capture means "use the pasted capture", not a standard token.
  const capture = document.getElementById("whoami_text");
  const source = document.getElementById("token_source");
  if (capture && source) {
    capture.addEventListener("input", () => {
      if (capture.value.trim() !== "") {
        source.value = "paste";
      }
    });
  }
  // After a decision, bring the deciding ACE into view.
  const deciding = document.querySelector("tr[data-deciding]");
  if (deciding && document.getElementById("decision")) {
    document.getElementById("decision").scrollIntoView({ block: "start" });
  }
  processList();
});

// The process list: search, filters and sort without a reload. The same query parameters
// work without script (the server applies them); here they are applied to the rows shown,
// and the address is updated so a reload keeps them.
const LEVELS = ["Untrusted", "Low", "Medium", "Medium Plus", "High", "System", "Protected Process"];

function processList() {
  const table = document.getElementById("process-tree");
  const form = document.getElementById("process-filter");
  if (!table || !form) {
    return;
  }
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const field = (name) => form.elements.namedItem(name);
  const state = { sort: "", desc: false };
  const params = new URLSearchParams(window.location.search);
  state.sort = params.get("sort") || "";
  state.desc = params.get("dir") === "desc";

  const value = (row, column) => {
    switch (column) {
      case "pid":
      case "session":
        return Number(row.dataset[column]);
      case "integrity": {
        const rank = LEVELS.indexOf(row.dataset.integrity);
        return rank < 0 ? LEVELS.length : rank;
      }
      case "elevation":
        return row.dataset.elevation.toLowerCase();
      default:
        return (row.dataset[column] || "").toLowerCase();
    }
  };

  const apply = () => {
    const q = field("q").value.trim().toLowerCase();
    const wanted = {
      integrity: field("integrity").value,
      elevation: field("elevation").value,
      user: field("user").value,
    };
    let shown = 0;
    for (const row of rows) {
      const d = row.dataset;
      let ok = (!wanted.integrity || d.integrity === wanted.integrity)
        && (!wanted.elevation || d.elevation === wanted.elevation)
        && (!wanted.user || d.user === wanted.user);
      if (ok && q) {
        ok = d.image.toLowerCase().includes(q) || d.user.toLowerCase().includes(q) || d.pid.includes(q);
      }
      row.hidden = !ok;
      shown += ok ? 1 : 0;
    }
    const ordered = rows.slice();
    if (state.sort) {
      ordered.sort((a, b) => {
        const x = value(a, state.sort);
        const y = value(b, state.sort);
        const c = x < y ? -1 : x > y ? 1 : Number(a.dataset.order) - Number(b.dataset.order);
        return state.desc ? -c : c;
      });
    } else {
      ordered.sort((a, b) => Number(a.dataset.order) - Number(b.dataset.order));
    }
    for (const row of ordered) {
      body.appendChild(row);
    }
    const active = Boolean(q || wanted.integrity || wanted.elevation || wanted.user || state.sort);
    table.classList.toggle("flat", active);
    for (const th of table.tHead.rows[0].cells) {
      if (th.dataset.column) {
        th.setAttribute("aria-sort", th.dataset.column !== state.sort ? "none"
          : state.desc ? "descending" : "ascending");
      }
    }
    const count = document.getElementById("process-count");
    if (count) {
      count.textContent = `${shown} process${shown === 1 ? "" : "es"}`
        + (active ? " (a flat list: filtered or sorted)" : "");
    }
    const next = new URLSearchParams();
    if (q) { next.set("q", field("q").value.trim()); }
    for (const [k, v] of Object.entries(wanted)) {
      if (v) { next.set(k, v); }
    }
    if (state.sort) { next.set("sort", state.sort); }
    if (state.sort && state.desc) { next.set("dir", "desc"); }
    const query = next.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? `?${query}` : ""));
  };

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  for (const link of table.querySelectorAll("th[data-column] a.sort")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const column = link.parentElement.dataset.column;
      state.desc = state.sort === column ? !state.desc : false;
      state.sort = column;
      apply();
    });
  }
}
