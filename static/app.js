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

	// "/" goes to the search box, as on most sites, unless the user is typing somewhere.
	function typing(el) {
		return el instanceof HTMLElement && (el.isContentEditable || el.matches("input, textarea, select"));
	}
	document.addEventListener("keydown", function (e) {
		if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || typing(e.target)) return;
		var q = document.getElementById("q");
		if (!q) return;
		e.preventDefault(); // the slash is a command here, not text for the box
		q.focus();
		q.select();
	});

	// Arrow keys in the lineage tree, as in a file browser: up and down go to the row above or
	// below among those shown; right opens a folded row, or goes to its first child; left folds
	// an open row, or goes to its parent. A row is a branch's summary or a leaf; the links in
	// them keep Tab, so that a user who never touches the arrows loses nothing.
	function treeRow(el) {
		return el instanceof Element ? el.closest("ul.tree summary, ul.tree .leaf") : null;
	}
	// A row inside a folded branch still has boxes in Chromium (content-visibility), hence
	// checkVisibility where there is one.
	function shown(el) { return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0; }
	function rowsShown(tree) {
		return Array.from(tree.querySelectorAll("summary, .leaf")).filter(shown);
	}
	function focusRow(row) {
		if (!row) return;
		if (!row.matches("summary") && !row.hasAttribute("tabindex")) row.setAttribute("tabindex", "-1"); // a leaf: focusable by script only, not a tab stop
		row.focus();
	}
	function parentRow(row) {
		var li = row.closest("li");
		var details = li && li.parentElement ? li.parentElement.closest("ul.tree details") : null;
		return details ? details.querySelector(":scope > summary") : null;
	}
	document.addEventListener("keydown", function (e) {
		if (e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
		if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].indexOf(e.key) < 0) return;
		var row = treeRow(e.target);
		if (!row) return;
		var tree = row.closest("ul.tree");
		var details = row.matches("summary") ? row.parentElement : null;
		e.preventDefault(); // the arrows move in the tree instead of scrolling the page
		if (e.key === "ArrowUp" || e.key === "ArrowDown") {
			var rows = rowsShown(tree), i = rows.indexOf(row);
			focusRow(rows[i + (e.key === "ArrowDown" ? 1 : -1)]);
		} else if (e.key === "ArrowRight") {
			if (details && !details.open) {
				details.open = true; // a collapsed branch loads through the toggle listener above
				row.focus();
			} else if (details) {
				var first = Array.from(details.querySelectorAll(":scope > ul summary, :scope > ul .leaf")).filter(shown)[0];
				focusRow(first);
			}
		} else if (details && details.open) {
			details.open = false;
			row.focus();
		} else {
			focusRow(parentRow(row));
		}
	});

	// Printing shows the path's folded steps and other closed sections (the tree itself is not
	// printed, see style.css), then puts them back as they were.
	var closed = [];
	window.addEventListener("beforeprint", function () {
		closed = Array.from(document.querySelectorAll("details:not(.lazy):not([open])")).filter(function (d) { return !d.closest("ul.tree"); });
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
		// The permalink prints in full: the server knows only the path, the browser the origin.
		document.querySelectorAll("a.permalink").forEach(function (a) { a.textContent = a.href; });
	});
})();
