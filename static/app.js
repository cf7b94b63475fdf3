// Lineage explorer: small progressive enhancements. Every page works without this file:
// collapsed branches link to their own page, and the serial number can be selected by hand.
(function () {
	"use strict";

	// Load a collapsed branch when it is opened: its rows come from a fragment route.
	function load(details) {
		var body = details.querySelector(":scope > .lazy-body");
		if (!body || !details.dataset.src || details.dataset.state) return;
		details.dataset.state = "loading";
		body.classList.add("loading");
		fetch(details.dataset.src, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
			.then(function (r) {
				if (r.status === 202) throw new Error("the tree is still being traced");
				if (!r.ok) throw new Error("HTTP " + r.status);
				return r.text();
			})
			.then(function (html) {
				// Our own server's escaped HTML, parsed inertly (no scripts run).
				var doc = new DOMParser().parseFromString(html, "text/html");
				var list = doc.body.firstElementChild;
				if (!list) throw new Error("empty answer");
				body.replaceChildren(document.adoptNode(list));
				body.classList.remove("loading");
				details.dataset.state = "loaded";
			})
			.catch(function (err) {
				body.classList.remove("loading");
				delete details.dataset.state;
				var p = document.createElement("p");
				p.className = "prob";
				p.textContent = "Could not load this branch (" + err.message + "). Close and open it to try again, or use the link.";
				body.prepend(p);
			});
	}

	// toggle does not bubble: listen in the capture phase so that rows added later are covered.
	document.addEventListener("toggle", function (e) {
		var d = e.target;
		if (d instanceof HTMLDetailsElement && d.open && d.matches("details.lazy[data-src]")) load(d);
	}, true);

	document.addEventListener("click", function (e) {
		var t = e.target;
		if (!(t instanceof Element)) return;
		var copy = t.closest("button[data-copy]");
		if (copy) {
			var src = document.getElementById(copy.dataset.copy);
			if (!src || !navigator.clipboard) return;
			navigator.clipboard.writeText(src.textContent.trim()).then(function () {
				copy.textContent = "Copied";
				setTimeout(function () { copy.textContent = "Copy"; }, 1500);
			}, function () {
				copy.textContent = "Select and copy by hand";
			});
			return;
		}
		var tool = t.closest("button[data-tree]");
		if (tool) {
			var open = tool.dataset.tree === "open";
			// Expand all opens what is on the page; collapsed branches still load one at a time.
			document.querySelectorAll("ul.tree details:not(.lazy)").forEach(function (d) { d.open = open; });
		}
	});

	// Printing shows the branches that are on the page, then puts them back as they were.
	var closed = [];
	window.addEventListener("beforeprint", function () {
		closed = Array.from(document.querySelectorAll("details:not(.lazy):not([open])"));
		closed.forEach(function (d) { d.open = true; });
	});
	window.addEventListener("afterprint", function () {
		closed.forEach(function (d) { d.open = false; });
		closed = [];
	});

	document.addEventListener("DOMContentLoaded", function () {
		if (navigator.clipboard) {
			document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
		}
		document.querySelectorAll(".tree-tools").forEach(function (t) { t.hidden = false; });
	});
})();
