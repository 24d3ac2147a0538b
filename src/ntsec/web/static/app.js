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
});
