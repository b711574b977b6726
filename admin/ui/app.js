// dvcwatch admin UI: a client of /api/v1 on this origin, as the CLI is.
//
// Rules this file keeps:
//   - Data never reaches an HTML parser: the DOM is built with createElement
//     and text nodes. The one exception is an email's HTML body, shown in an
//     iframe sandboxed without scripts (srcdoc), through the Trusted Types
//     policy "dvcwatch-email"; the page's CSP refuses every other HTML sink.
//   - Every request that changes something sends X-Dvcwatch-Request: 1; the
//     server refuses cookie-authenticated changes without it.
//   - A 401 shows the login form again; other errors show the API's own
//     message ({"error": "..."}) in the message area.
//   - Times are shown in Asia/Ho_Chi_Minh, whatever the browser's zone.
"use strict";

(() => {
	const API = "/api/v1";
	const ZONE = "Asia/Ho_Chi_Minh";
	const ROLES = { viewer: 1, operator: 2, admin: 3 };
	const ROLE_LABELS = { viewer: "Xem · viewer", operator: "Vận hành · operator", admin: "Quản trị · admin" };
	const REFRESH_MS = 5000;

	const timeFormat = new Intl.DateTimeFormat("vi-VN", {
		timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit",
		hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
	});

	const KIND_LABELS = {};
	for (const k of window.DVCWATCH_KINDS || []) KIND_LABELS[k.kind] = k.label;

	// The causes of failures as the server classifies them (package failure),
	// with their Vietnamese explanations; failures carry the cause's code.
	const CAUSES = {};
	for (const c of window.DVCWATCH_CAUSES || []) CAUSES[c.cause] = c;
	const CAUSE_ORDER = (window.DVCWATCH_CAUSES || []).map((c) => c.cause);
	const causeOf = (code) => CAUSES[code || "unknown"] || CAUSES.unknown ||
		{ cause: code, title: code || "—", english: "", explain: "", action: "" };
	const BANNER_MS = 15000;

	// The only way HTML from data enters the page: an email's body, into a
	// sandboxed srcdoc. Without Trusted Types support the string is used as is.
	const emailPolicy = window.trustedTypes
		? window.trustedTypes.createPolicy("dvcwatch-email", { createHTML: (s) => s })
		: { createHTML: (s) => s };

	const state = {
		me: null,    // {name, role} of the session
		gen: 0,      // counts renders, so that a slow answer for an old view is dropped
		timer: null, // the current view's auto-refresh
		bannerTimer: null, // the banners' refresh, on every view
		bannerSeen: "",    // the health the banners show, so an unchanged one keeps its open details
	};

	const $ = (id) => document.getElementById(id);

	// ---- DOM helpers --------------------------------------------------------

	// el builds an element. props: class, text, dataset, on<event> (a
	// function), booleans (true sets the attribute, false omits it), other
	// values set as attributes. Children: nodes, or anything else as text.
	function el(tag, props, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === undefined || v === null || v === false) continue;
			if (k === "class") e.className = v;
			else if (k === "text") e.textContent = String(v);
			else if (k === "dataset") Object.assign(e.dataset, v);
			else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
			else e.setAttribute(k, v === true ? "" : String(v));
		}
		add(e, children);
		return e;
	}

	function add(parent, children) {
		for (const c of children.flat(Infinity)) {
			if (c === undefined || c === null || c === false) continue;
			parent.append(c instanceof Node ? c : String(c)); // a string becomes a text node
		}
		return parent;
	}

	// fmtTime shows an instant as officials write it: dd/mm/yyyy hh:mm:ss.
	function fmtTime(v) {
		if (!v) return "—";
		const d = new Date(v);
		if (Number.isNaN(d.getTime())) return String(v);
		const p = {};
		for (const { type, value } of timeFormat.formatToParts(d)) p[type] = value;
		return p.day + "/" + p.month + "/" + p.year + " " + p.hour + ":" + p.minute + ":" + p.second;
	}

	function time(v) {
		return el("time", { class: "time", datetime: v || undefined, title: v || undefined }, fmtTime(v));
	}

	function badge(value, label) {
		return el("span", { class: "state " + String(value || "").replace(/[^a-z_-]/gi, "") }, label || value || "—");
	}

	// table builds a table: cols are [label, class?]; rows are <tr> elements.
	// cls classes the table ("stack": its rows become cards on a phone).
	function table(cols, rows, empty, cls) {
		const head = el("tr", null, cols.map(([label, cls]) => el("th", { class: cls, scope: "col" }, label)));
		const body = el("tbody");
		fillBody(body, cols.length, rows, empty);
		return el("div", { class: "table-wrap" }, el("table", { class: cls }, el("thead", null, head), body));
	}

	function fillBody(body, ncols, rows, empty) {
		if (rows.length === 0) {
			body.replaceChildren(el("tr", null, el("td", { class: "empty", colspan: ncols }, empty || "Không có dữ liệu · nothing here")));
		} else {
			body.replaceChildren(...rows);
		}
	}

	function td(props, ...children) {
		if (props === null || typeof props !== "object" || props instanceof Node || Array.isArray(props)) {
			return el("td", null, props, ...children);
		}
		return el("td", props, ...children);
	}

	// num is a cell of a number as is (an id); label names it where the
	// table becomes cards.
	function num(n, label) {
		return el("td", { class: "num", "data-label": label }, n === undefined || n === null ? "—" : String(n));
	}

	// count is a cell of a quantity, in Vietnamese digits (4.643).
	function count(n, label) {
		return el("td", { class: "num", "data-label": label }, typeof n === "number" ? fmtNum(n) : "—");
	}

	function heading(title, ...tools) {
		return el("div", { class: "toolbar" }, el("h1", null, title), el("span", { class: "spacer" }), tools);
	}

	function refreshButton() {
		return el("button", { type: "button", class: "secondary", "data-action": "refresh", onclick: () => rerender() }, "Làm mới");
	}

	// ---- messages and errors ------------------------------------------------

	function showMsg(text, kind) {
		$("msg-text").textContent = text;
		$("msg").className = "msg" + (kind === "error" ? " error" : "");
		$("msg").setAttribute("role", kind === "error" ? "alert" : "status");
		$("msg").hidden = false;
	}

	function clearMsg() {
		$("msg").hidden = true;
		$("msg-text").textContent = "";
	}

	// report shows an error; a 401 has shown the login form already.
	function report(err) {
		if (err && err.status === 401) return;
		showMsg(err && err.message ? err.message : String(err), "error");
	}

	// act runs fn with the button disabled, and reports its error.
	async function act(button, fn) {
		if (button) button.disabled = true;
		try {
			await fn();
		} catch (err) {
			report(err);
		} finally {
			if (button && button.isConnected) button.disabled = false;
		}
	}

	// ---- the API ------------------------------------------------------------

	class ApiError extends Error {
		constructor(status, message) {
			super(message);
			this.status = status;
		}
	}

	async function api(method, path, body) {
		const headers = { Accept: "application/json" };
		const init = { method, headers, credentials: "same-origin", cache: "no-store" };
		if (method !== "GET" && method !== "HEAD") headers["X-Dvcwatch-Request"] = "1";
		if (body !== undefined) {
			headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(body);
		}
		let res;
		try {
			res = await fetch(API + path, init);
		} catch (err) {
			throw new ApiError(0, "Không kết nối được máy chủ · cannot reach the server (" + err.message + ")");
		}
		const text = await res.text();
		let data = null;
		if (text) {
			try {
				data = JSON.parse(text);
			} catch (_) {
				data = null;
			}
		}
		if (res.ok) return data;
		const message = data && typeof data.error === "string"
			? data.error
			: res.status + " " + res.statusText + (text ? ": " + text.slice(0, 300) : "");
		if (res.status === 401 && path !== "/session") sessionLost(message);
		throw new ApiError(res.status, message);
	}

	const seg = (s) => encodeURIComponent(s);

	function can(role) {
		return state.me !== null && (ROLES[state.me.role] || 0) >= ROLES[role];
	}

	// ---- login --------------------------------------------------------------

	function showLogin(reason) {
		stopTimer();
		stopBanners();
		state.gen++;
		$("nav").hidden = true;
		$("search").hidden = true;
		$("who").hidden = true;
		$("view").hidden = true;
		$("view").replaceChildren(); // leave no data on the page
		$("login").hidden = false;
		$("login-error").hidden = !reason;
		$("login-error").textContent = reason || "";
		$("login-token").focus();
	}

	function sessionLost(message) {
		const had = state.me !== null;
		state.me = null;
		clearMsg();
		showLogin(had ? "Phiên đăng nhập đã hết hạn hoặc không hợp lệ · session ended: " + message : "");
	}

	function showApp() {
		$("login").hidden = true;
		$("login-error").hidden = true;
		$("who-name").textContent = state.me.name;
		$("who-role").textContent = ROLE_LABELS[state.me.role] || state.me.role;
		$("who").hidden = false;
		$("nav").hidden = false;
		$("search").hidden = false;
		$("view").hidden = false;
		startBanners();
	}

	async function login(ev) {
		ev.preventDefault();
		const input = $("login-token");
		const button = $("login-submit");
		button.disabled = true;
		$("login-error").hidden = true;
		try {
			state.me = await api("POST", "/session", { token: input.value });
			input.value = "";
			clearMsg();
			showApp();
			await route();
		} catch (err) {
			$("login-error").textContent = err.message;
			$("login-error").hidden = false;
		} finally {
			button.disabled = false;
		}
	}

	async function logout() {
		try {
			await api("DELETE", "/session");
		} catch (err) {
			report(err);
			return;
		}
		state.me = null;
		showLogin("");
		showMsg("Đã đăng xuất · logged out");
	}

	// ---- routing ------------------------------------------------------------

	// parseHash reads "#/view/arg?query".
	function parseHash() {
		const raw = location.hash.replace(/^#\/?/, "");
		const [p, q] = raw.split("?", 2);
		const parts = p.split("/").filter(Boolean).map((s) => {
			try {
				return decodeURIComponent(s);
			} catch (_) {
				return s;
			}
		});
		return { name: parts[0] || "dashboard", args: parts.slice(1), query: new URLSearchParams(q || "") };
	}

	function stopTimer() {
		if (state.timer !== null) {
			clearInterval(state.timer);
			state.timer = null;
		}
	}

	async function route() {
		if (state.me === null) return;
		stopTimer();
		refreshBanners(); // a view changed: the banners may have too
		const hash = location.hash || "#/dashboard";
		const r = parseHash();
		const view = views[r.name] ? r.name : "dashboard";
		for (const a of document.querySelectorAll("#nav a")) {
			a.classList.toggle("active", a.dataset.view === view);
		}
		const gen = ++state.gen;
		const root = $("view");
		root.setAttribute("aria-busy", "true");
		try {
			const node = await views[view](r, gen);
			if (gen !== state.gen) return;
			root.replaceChildren(node);
			root.dataset.view = view;
			root.dataset.route = hash; // which render this is (tests wait on it)
		} catch (err) {
			if (gen !== state.gen) return;
			root.replaceChildren(el("p", { class: "muted" }, "Không tải được dữ liệu · could not load this view."));
			report(err);
		} finally {
			if (gen === state.gen) root.removeAttribute("aria-busy");
		}
	}

	const rerender = () => route();

	// autoRefresh calls fn every REFRESH_MS while this render is current.
	function autoRefresh(gen, fn) {
		if (gen !== state.gen) return; // another view has started meanwhile
		stopTimer();
		let busy = false;
		state.timer = setInterval(async () => {
			if (gen !== state.gen || busy || document.hidden) return;
			busy = true;
			try {
				await fn();
			} catch (err) {
				report(err);
			} finally {
				busy = false;
			}
		}, REFRESH_MS);
	}

	// ---- banners ------------------------------------------------------------

	// rawError is an error message behind a toggle: the explanation around it
	// says what it means; the message is for whoever digs further.
	function rawError(text, open) {
		if (!text) return null;
		return el("details", { class: "raw", open: !!open },
			el("summary", null, "Lỗi gốc · raw error"), el("pre", { class: "raw" }, text));
	}

	function startBanners() {
		stopBanners();
		refreshBanners();
		state.bannerTimer = setInterval(() => {
			if (!document.hidden) refreshBanners();
		}, BANNER_MS);
	}

	function stopBanners() {
		if (state.bannerTimer !== null) {
			clearInterval(state.bannerTimer);
			state.bannerTimer = null;
		}
		state.bannerSeen = "";
		$("banners").hidden = true;
		$("banners").replaceChildren();
	}

	// refreshBanners shows, above every view, a banner per connector stopped
	// after a permanent failure and one for a failing mail server. A failure
	// to read them is left to the views to report.
	async function refreshBanners() {
		if (state.me === null) return;
		let h;
		try {
			h = await api("GET", "/health");
		} catch (_) {
			return;
		}
		const seen = JSON.stringify(h);
		if (state.me === null || seen === state.bannerSeen) return;
		state.bannerSeen = seen;
		const list = [];
		for (const c of h.connectors || []) {
			if (c.state !== "stopped") continue;
			const cause = causeOf(c.cause);
			list.push(el("div", { class: "banner", role: "alert", dataset: { banner: "connector", connector: c.name } },
				el("p", null, el("strong", null, "Kết nối " + c.name + " đã dừng từ " + fmtTime(c.since)),
					el("span", { class: "muted" }, " · connector stopped after a permanent failure")),
				el("p", null, cause.title + " (" + cause.english + "). " + cause.explain),
				c.config_changed
					? el("p", null, "Cấu hình đã đổi: lượt đồng bộ theo lịch tới sẽ chạy lại. · The configuration changed: the next tick retries.")
					: el("p", null, "Các lượt đồng bộ theo lịch đang được bỏ qua. Cần làm: " + cause.action),
				(c.schedules || []).length > 0
					? el("p", null, "Chạy lại bằng tay · run by hand: ", el("code", null, "dvcwatch schedules run " + c.schedules[0]))
					: null,
				rawError(c.last_error)));
		}
		const m = h.smtp;
		if (m && m.failing) {
			list.push(el("div", { class: "banner", role: "alert", dataset: { banner: "smtp" } },
				el("p", null, el("strong", null, "Máy chủ thư đang lỗi"), el("span", { class: "muted" }, " · mail server failing")),
				el("p", null, m.recent_failed + " lần gửi thư gần nhất đều thất bại" +
					(m.last_sent ? "; lần gửi được gần nhất lúc " + fmtTime(m.last_sent) : "; chưa gửi được thư nào") +
					". Thư chưa gửi vẫn chờ và tự gửi khi máy chủ hoạt động lại."),
				el("p", null, "Cần làm: " + causeOf("mail_unreachable").action),
				rawError(m.last_error)));
		}
		$("banners").replaceChildren(...list);
		$("banners").hidden = list.length === 0;
	}

	// ---- dashboard ----------------------------------------------------------

	const NOTIFICATION_LABELS = { pending: "Chờ gửi · pending", sending: "Đang gửi · sending", sent: "Đã gửi · sent", failed: "Lỗi · failed" };
	const noteOrder = (k) => {
		const i = Object.keys(NOTIFICATION_LABELS).indexOf(k);
		return i < 0 ? 99 : i;
	};
	const QUEUE_STATES = [
		["pending", "Chờ chạy · pending"], ["active", "Đang chạy · active"], ["scheduled", "Hẹn giờ · scheduled"],
		["retry", "Chờ thử lại · retry"], ["archived", "Lỗi, lưu trữ · archived"], ["completed", "Hoàn thành · completed"],
	];

	const CONNECTOR_STATES = { ok: "Hoạt động · ok", failing: "Đang lỗi, thử lại · failing", stopped: "Đã dừng · stopped" };

	// operationsList shows each connector's state, with its last success and,
	// while it fails, its latest failure on a line of its own beneath; then the
	// mail server's state. An operator reads "failing since 3 hours", not only
	// "failing".
	function operationsList(d) {
		const items = (d.connectors || []).map((c) => [
			el("dt", null, c.name),
			el("dd", { dataset: { connectorState: c.name } },
				badge(c.state === "ok" ? "succeeded" : c.state === "failing" ? "retry" : "failed", CONNECTOR_STATES[c.state] || c.state)),
			el("dd", { class: "op-detail hint", dataset: { connectorDetail: c.name } },
				c.last_success ? "Đồng bộ được lần cuối " + fmtTime(c.last_success) : "Chưa đồng bộ được lần nào",
				c.state !== "ok" && c.last_error_at
					? " · " + fmtNum(c.failures) + " lần lỗi liên tiếp, gần nhất " + fmtTime(c.last_error_at) + ": " + causeOf(c.cause).title
					: ""),
		]);
		if (d.smtp) {
			items.push([el("dt", null, "Máy chủ thư · SMTP"), el("dd", { dataset: { smtpState: d.smtp.failing ? "failing" : "ok" } },
				d.smtp.failing ? badge("failed", "Đang lỗi · failing") : badge("succeeded", "Hoạt động · ok"))]);
		}
		return items.length === 0 ? el("p", { class: "muted" }, "—") : el("dl", null, items);
	}

	function card(title, ...body) {
		return el("div", { class: "card" }, el("h2", null, title), body);
	}

	function countList(pairs) {
		return el("dl", null, pairs.map(([label, value]) => [el("dt", null, label), el("dd", null, value)]));
	}

	async function dashboard() {
		const d = await api("GET", "/dashboard");
		const breaches = Object.entries(d.open_breaches || {}).sort((a, b) => b[1] - a[1]);
		const notes = d.notifications || {};
		const queue = d.queue || {};
		return el("div", null,
			heading("Tổng quan · Dashboard", refreshButton()),
			el("div", { class: "cards" },
				card("Vi phạm đang mở · Open breaches",
					breaches.length === 0 ? el("p", { class: "muted" }, "Không có") :
						countList(breaches.map(([k, n]) => [
							el("a", { href: "#/breaches?kind=" + seg(k) }, KIND_LABELS[k] || k), fmtNum(n)]))),
				card("Thư thông báo · Notifications",
					countList(Object.keys(notes).sort((a, b) => noteOrder(a) - noteOrder(b))
						.map((k) => [NOTIFICATION_LABELS[k] || k, fmtNum(notes[k])]))),
				card("Hàng đợi · Queue",
					countList(QUEUE_STATES.map(([k, label]) => [
						el("a", { href: "#/jobs/" + k }, label), fmtNum(queue[k] || 0)]))),
				card("Tác vụ lỗi chưa xử lý · Open failed jobs",
					el("a", { href: "#/jobs/failed", class: "big", "data-count": "failed-open" }, String(d.failed_open || 0)),
					el("p", { class: "hint" }, "Tác vụ hàng đợi đã bỏ cuộc, chưa ai thử lại hay xoá.")),
				card("Kết nối và máy chủ thư · Connectors and mail", operationsList(d))),
			el("h2", null, "Hồ sơ có nguy cơ theo phòng ban · Dossiers at risk"),
			table(
				[["Cơ quan · Agency"], ["Phòng ban · Department"], ["Sắp đến hạn · Due soon", "num"],
					["Quá hạn · Overdue", "num"], ["Bước quá hạn · Step overdue", "num"]],
				(d.at_risk || []).map((r) => el("tr", null,
					td({ "data-label": "Cơ quan" }, el("a", { href: "#/breaches?agency=" + seg(r.agency) }, named({ code: r.agency, name: r.agency_name }))),
					td({ "data-label": "Phòng ban" }, el("a", { href: "#/breaches?agency=" + seg(r.agency) + "&department=" + seg(r.department) },
						named({ code: r.department, name: r.department_name }))),
					count(r.due_soon, "Sắp đến hạn"), count(r.overdue, "Quá hạn"), count(r.step_overdue, "Bước quá hạn"))),
				"Không có hồ sơ nào có nguy cơ · no dossier at risk", "stack"),
			el("h2", null, "Thư gửi gần đây · Recent notifications"),
			notificationTable(d.recent || []));
	}

	// ---- emails -------------------------------------------------------------

	const NOTE_LABELS = { pending: "Chờ gửi", sending: "Đang gửi", sent: "Đã gửi", failed: "Lỗi" };

	function notificationTable(list) {
		return table(
			[["#", "num"], ["Tạo lúc · Created"], ["Người nhận · Recipient", "c-person"], ["Tiêu đề · Subject"],
				["Hồ sơ · Items", "num"], ["Trạng thái · State"], ["Lần gửi · Attempts", "num"], ["Gửi/lỗi lúc · Sent/failed"], ["Lỗi · Error"]],
			list.map((n) => {
				const href = "#/emails/" + String(Number(n.id));
				return el("tr", { class: "clickable", dataset: { notification: String(n.id) }, onclick: (ev) => {
					if (ev.target.closest("a")) return; // the link navigates by itself
					location.hash = href;
				} },
				num(n.id, "Thư số"), td({ "data-label": "Tạo lúc" }, time(n.created_at)),
				td({ "data-label": "Người nhận", class: "c-person" }, person({ id: n.recipient, name: n.recipient_name }), el("br"),
					el("span", { class: "muted" }, n.email || "")),
				td(el("a", { href }, n.subject || "(không tiêu đề)"), n.kind ? [el("br"), el("span", { class: "muted" }, n.kind)] : null),
				count(n.items, "Hồ sơ"), td({ "data-label": "Trạng thái" }, badge(n.state, NOTE_LABELS[n.state]), noteCause(n)), count(n.attempts, "Lần gửi"),
				td({ "data-label": "Gửi/lỗi lúc" }, time(n.sent_at || n.failed_at)), td({ class: "err" }, n.last_error || ""));
			}),
			"Chưa có thư nào · no notifications", "stack emails-table");
	}

	// noteCause names why a failed email failed: "possibly delivered"
	// (mail_uncertain) above all, which an administrator retries only if it
	// did not arrive.
	function noteCause(n) {
		if (!n.cause) return null;
		const c = causeOf(n.cause);
		return el("span", { class: "note-cause", dataset: { cause: n.cause } }, " " + c.title + (c.english ? " · " + c.english : ""));
	}

	async function emails(r) {
		if (r.args.length > 0) return emailDetail(r.args[0]);
		const q = r.query;
		const limit = pageLimit(q);
		const params = new URLSearchParams();
		for (const k of ["state", "kind", "recipient", "cursor"]) if (q.get(k)) params.set(k, q.get(k));
		params.set("limit", String(limit));
		const page = await api("GET", "/notifications?" + params.toString());
		const filter = filterForm("emails", q, [
			choice("state", "Trạng thái · State", q.get("state"), [["", "Mọi trạng thái · any"],
				...Object.entries(NOTE_LABELS).map(([k, v]) => [k, v + " · " + k])]),
			choice("kind", "Loại · Kind", q.get("kind"), [["", "Mọi loại · any"], ["alerts", "Thư cảnh báo · alerts"],
				["summary", "Báo cáo ngày · summary"], ["operator", "Thư quản trị · operator"]]),
			textField("recipient", "Mã người nhận · recipient", q.get("recipient")),
			choice("limit", "Mỗi trang · per page", String(limit === 100 ? "" : limit), [["", "100"], ["50", "50"], ["200", "200"]]),
		]);
		return el("div", { class: "list-view" },
			heading("Thư đã gửi · Emails", refreshButton()),
			filter,
			el("p", { class: "hint zone" }, "Thời gian theo " + ZONE_LABEL + "."),
			pager("emails", q, page, limit, "thư"),
			notificationTable(page.items),
			page.items.length > 20 ? pager("emails", q, page, limit, "thư") : null);
	}

	async function emailDetail(id) {
		const n = await api("GET", "/notifications/" + seg(id));
		const frame = document.createElement("iframe");
		frame.className = "email";
		frame.setAttribute("sandbox", ""); // no scripts, no forms, no same origin, no navigation of the top
		frame.setAttribute("referrerpolicy", "no-referrer");
		frame.title = "Nội dung HTML của thư";
		if (n.html) frame.srcdoc = emailPolicy.createHTML(n.html);
		return el("div", { class: "detail", dataset: { notification: String(n.id) } },
			el("div", { class: "toolbar" },
				el("a", { href: "#/emails" }, "← Danh sách thư"), el("span", { class: "spacer" }), refreshButton()),
			el("h1", { class: "subject" }, n.subject || "(không tiêu đề)"),
			el("dl", null,
				el("dt", null, "Người nhận · To"), el("dd", { class: "recipient" }, (n.recipient || "—") + (n.email ? " <" + n.email + ">" : "")),
				el("dt", null, "Trạng thái · State"), el("dd", { class: "note-state" }, badge(n.state, NOTE_LABELS[n.state] ? NOTE_LABELS[n.state] + " · " + n.state : n.state)),
				el("dt", null, "Loại · Kind"), el("dd", null, n.kind || "—"),
				el("dt", null, "Số hồ sơ · Items"), el("dd", null, String(n.items ?? "—")),
				el("dt", null, "Số lần gửi · Attempts"), el("dd", null, String(n.attempts ?? "—")),
				el("dt", null, "Tạo lúc · Created"), el("dd", null, time(n.created_at)),
				n.sent_at ? [el("dt", null, "Gửi lúc · Sent"), el("dd", null, time(n.sent_at))] : null,
				n.failed_at ? [el("dt", null, "Lỗi lúc · Failed"), el("dd", null, time(n.failed_at))] : null,
				n.cause ? [el("dt", null, "Nguyên nhân · Cause"), el("dd", { class: "note-cause" }, noteCause(n), el("br"),
					el("span", { class: "muted" }, causeOf(n.cause).action))] : null,
				n.last_error ? [el("dt", null, "Lỗi gần nhất · Last error"), el("dd", { class: "error" }, n.last_error)] : null),
			el("h2", null, "Nội dung văn bản · Text part"),
			el("pre", { class: "email-text" }, n.text || "(trống)"),
			el("h2", null, "Nội dung HTML · HTML part"),
			n.html ? frame : el("p", { class: "muted" }, "(thư không có phần HTML)"));
	}

	// ---- jobs ---------------------------------------------------------------

	const JOB_TABS = [
		["pending", "Chờ chạy", "pending"], ["active", "Đang chạy", "active"], ["scheduled", "Hẹn giờ", "scheduled"],
		["retry", "Chờ thử lại", "retry"], ["archived", "Lỗi (lưu trữ)", "archived"], ["completed", "Hoàn thành", "completed"],
		["failed", "Lịch sử lỗi", "failed history"], ["runs", "Lượt chạy", "runs"],
	];
	const RUNNABLE = new Set(["archived", "retry", "scheduled"]);
	const RESOLUTIONS = { retried: "Đã thử lại", deleted: "Đã xoá" };

	async function jobs(r, gen) {
		const tab = JOB_TABS.some(([k]) => k === r.args[0]) ? r.args[0] : "archived";
		const tabs = el("nav", { class: "tabs" }, JOB_TABS.map(([k, vi, en]) =>
			el("a", { href: "#/jobs/" + k, class: k === tab ? "active" : undefined, dataset: { tab: k } }, vi + " · " + en)));
		if (tab === "runs") return runs(r, tabs);
		const tools = [];
		if (tab === "archived" && can("admin")) {
			tools.push(el("button", { type: "button", class: "secondary", "data-action": "retry-archived", title: "Retry all archived", onclick: (ev) => act(ev.currentTarget, async () => {
				if (!confirm("Thử lại tất cả tác vụ lỗi đang lưu trữ?\nRetry every archived task?")) return;
				const res = await api("POST", "/jobs/retry-archived");
				showMsg("Đã đưa " + res.retried + " tác vụ trở lại hàng đợi · " + res.retried + " task(s) re-queued");
				await rerender();
			}) }, "Thử lại tất cả"));
		}
		const live = el("input", { type: "checkbox", checked: true, id: "auto-refresh" });
		tools.push(el("label", null, live, "Tự làm mới · auto-refresh"), refreshButton());

		// The failures are grouped by cause (failed history and archived).
		let load, cols, rowsOf, groupedBy = false;
		if (tab === "failed") {
			groupedBy = true;
			load = () => api("GET", "/jobs/failed?all=1&limit=200");
			cols = [["Task ID"], ["Loại · Type"], ["Dữ liệu · Payload"], ["Lỗi · Error"], ["Đã thử · Retried", "num"],
				["Lỗi lúc · Failed"], ["Xử lý · Resolution"], ["Bởi · By"], ["Lúc · At"], [""]];
			rowsOf = (list) => list.map(failedRow);
		} else {
			groupedBy = tab === "archived";
			load = () => api("GET", "/jobs?state=" + seg(tab) + "&limit=200");
			cols = [["Task ID"], ["Loại · Type"], ["Dữ liệu · Payload"], ["Thử lại · Retried", "num"], ["Lỗi gần nhất · Last error"],
				["Thời điểm · Times"], [""]];
			rowsOf = (list) => list.map((t) => taskRow(t, tab));
		}
		let list = await load();
		let seen = JSON.stringify(list);
		const empty = "Không có tác vụ · no tasks";
		let tableNode, refill;
		if (groupedBy) {
			tableNode = el("div", { class: "cause-groups" });
			refill = () => fillGroups(tableNode, list, cols, rowsOf, empty);
		} else {
			tableNode = table(cols, rowsOf(list), empty);
			const body = tableNode.querySelector("tbody");
			refill = () => fillBody(body, cols.length, rowsOf(list), empty);
		}
		if (groupedBy) refill();
		autoRefresh(gen, async () => {
			if (!live.checked) return;
			list = await load();
			const now = JSON.stringify(list);
			if (now === seen || gen !== state.gen) return;
			seen = now;
			refill();
		});
		return el("div", { dataset: { tab } },
			heading("Tác vụ · Jobs", tools),
			tabs,
			can("admin") ? null : el("p", { class: "hint" }, "Chỉ quản trị viên (admin) được thử lại hoặc xoá tác vụ."),
			tableNode);
	}

	// fillGroups shows list in one table per cause of failure, the largest
	// group first, each with what the cause means and what to do.
	function fillGroups(wrap, list, cols, rowsOf, empty) {
		if (list.length === 0) {
			wrap.replaceChildren(table(cols, [], empty));
			return;
		}
		const by = new Map();
		for (const x of list) {
			const c = causeOf(x.cause).cause;
			if (!by.has(c)) by.set(c, []);
			by.get(c).push(x);
		}
		const order = [...by.keys()].sort((a, b) => by.get(b).length - by.get(a).length || CAUSE_ORDER.indexOf(a) - CAUSE_ORDER.indexOf(b));
		wrap.replaceChildren(...order.map((c) => {
			const info = causeOf(c);
			const items = by.get(c);
			return el("section", { class: "cause-group", dataset: { cause: c } },
				el("h2", null, info.title, el("span", { class: "muted" }, " · " + info.english + " "),
					el("span", { class: "count", title: "Số tác vụ · tasks" }, String(items.length))),
				c === "unknown" ? null : el("p", { class: "explain" }, info.explain),
				c === "unknown" ? null : el("p", { class: "hint" }, "Cần làm · what to do: " + info.action),
				table(cols, rowsOf(items), empty));
		}));
	}

	// errorCell shows an error behind its toggle, open when no cause explains it.
	function errorCell(text, cause) {
		return td({ class: "err" }, rawError(text, !cause || cause === "unknown"));
	}

	function payload(p) {
		return el("code", { class: "payload" }, p || "");
	}

	function taskRow(t, tab) {
		const actions = [];
		if (can("admin")) {
			if (RUNNABLE.has(tab)) actions.push(retryButton(t.id));
			if (tab !== "active") actions.push(deleteButton(t.id));
		}
		const times = [];
		if (t.last_failed_at) times.push(["Lỗi lúc", t.last_failed_at]);
		if (t.next_process_at) times.push(["Chạy lúc", t.next_process_at]);
		if (t.completed_at) times.push(["Xong lúc", t.completed_at]);
		return el("tr", { dataset: { taskId: t.id, state: t.state } },
			td(el("code", null, t.id)), td(t.type), td(payload(t.payload)),
			num(t.retried + "/" + t.max_retry), t.last_error ? errorCell(t.last_error, t.cause) : td({ class: "err" }, ""),
			td(times.length === 0 ? "—" : times.map(([label, v], i) => [i ? el("br") : null, el("span", { class: "muted" }, label + ": "), time(v)])),
			td({ class: "actions" }, actions));
	}

	function failedRow(f) {
		const actions = [];
		if (!f.resolution && can("admin")) actions.push(retryButton(f.task_id), deleteButton(f.task_id));
		return el("tr", { dataset: { failedId: String(f.id), taskId: f.task_id, resolution: f.resolution || "open" } },
			td(el("code", null, f.task_id)), td(f.type), td(payload(f.payload)), errorCell(f.error, f.cause),
			num(f.retried), td(time(f.failed_at)),
			td({ class: "resolution" }, f.resolution ? badge(f.resolution, RESOLUTIONS[f.resolution] || f.resolution) : badge("failed", "Chưa xử lý")),
			td({ class: "resolved-by" }, f.resolved_by || "—"), td(f.resolved_at ? time(f.resolved_at) : "—"),
			td({ class: "actions" }, actions));
	}

	// runs lists the recorded job runs, newest first, a page at a time.
	async function runs(r, tabs) {
		const q = r.query;
		const limit = pageLimit(q);
		const params = new URLSearchParams();
		for (const k of ["job", "status", "cursor"]) if (q.get(k)) params.set(k, q.get(k));
		params.set("limit", String(limit));
		const page = await api("GET", "/jobs/runs?" + params.toString());
		const cols = [["#", "num"], ["Công việc · Job"], ["Lịch · Schedule"], ["Task ID"], ["Trạng thái · Status"], ["Lỗi · Error"],
			["Bắt đầu · Started"], ["Kết thúc · Finished"], ["Số liệu · Counts"]];
		const filter = filterForm("jobs/runs", q, [
			choice("job", "Công việc · Job", q.get("job"), [["", "Mọi công việc · any"],
				...["sync", "reconcile", "detect", "notify", "digest"].map((j) => [j, j])]),
			choice("status", "Trạng thái · Status", q.get("status"), [["", "Mọi trạng thái · any"],
				["succeeded", "Thành công · succeeded"], ["failed", "Lỗi · failed"], ["skipped", "Bỏ qua · skipped"]]),
			choice("limit", "Mỗi trang · per page", String(limit === 100 ? "" : limit), [["", "100"], ["50", "50"], ["200", "200"]]),
		]);
		return el("div", { class: "list-view", dataset: { tab: "runs" } },
			heading("Tác vụ · Jobs", refreshButton()),
			tabs,
			filter,
			el("p", { class: "hint zone" }, "Thời gian theo " + ZONE_LABEL + "."),
			pager("jobs/runs", q, page, limit, "lượt chạy"),
			table(cols, page.items.map(runRow), "Không có lượt chạy · no runs", "stack runs-table"),
			page.items.length > 20 ? pager("jobs/runs", q, page, limit, "lượt chạy") : null);
	}

	function runRow(x) {
		const counts = Object.entries(x.counts || {}).map(([k, v]) => k + ": " + fmtNum(v)).join(", ");
		return el("tr", { dataset: { run: String(x.id) } },
			num(x.id, "Lượt"), td({ "data-label": "Công việc" }, x.job), td({ "data-label": "Lịch" }, x.schedule || "—"),
			td({ "data-label": "Task ID", class: "c-task" }, x.task_id ? el("code", null, x.task_id) : "—"),
			td({ "data-label": "Trạng thái" }, badge(x.status)),
			x.cause ? td({ class: "err" }, causeOf(x.cause).title, rawError(x.error)) : td({ class: "err" }, x.error || ""),
			td({ "data-label": "Bắt đầu" }, time(x.started_at)), td({ "data-label": "Kết thúc" }, time(x.finished_at)),
			td({ "data-label": "Số liệu", class: "c-counts" }, counts || "—"));
	}

	function retryButton(id) {
		return el("button", { type: "button", "data-action": "retry", title: "Retry", onclick: (ev) => act(ev.currentTarget, async () => {
			const res = await api("POST", "/jobs/" + seg(id) + "/retry");
			showMsg("Đã đưa tác vụ " + id + " trở lại hàng đợi · re-queued" +
				(res && res.requeued ? " (khôi phục từ lịch sử lỗi · restored from the failure history)" : ""));
			await rerender();
		}) }, "Thử lại");
	}

	function deleteButton(id) {
		return el("button", { type: "button", class: "danger", "data-action": "delete", title: "Delete", onclick: (ev) => act(ev.currentTarget, async () => {
			if (!confirm("Xoá tác vụ " + id + "?\nDelete this task?")) return;
			await api("DELETE", "/jobs/" + seg(id));
			showMsg("Đã xoá tác vụ " + id + " · deleted");
			await rerender();
		}) }, "Xoá");
	}

	// ---- schedules ----------------------------------------------------------

	// withoutZone strips a CRON_TZ= (or TZ=) prefix: the schedule keeps its
	// zone when the new expression names none.
	function withoutZone(spec) {
		const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(spec || "");
		return m ? { zone: m[1], expr: m[2] } : { zone: "", expr: spec || "" };
	}

	async function schedules() {
		const list = await api("GET", "/schedules");
		const operator = can("operator");
		return el("div", null,
			heading("Lịch chạy · Schedules", refreshButton()),
			operator ? null : el("p", { class: "hint" }, "Chỉ vận hành viên (operator) hoặc quản trị viên được thay đổi lịch."),
			table(
				[["Tên · Name"], ["Công việc · Job"], ["Kết nối · Connector"], ["Cron (đang áp dụng · in force)"], ["Trạng thái · State"],
					["Lần tới · Next"], ["Lần trước · Prev"], ["Sửa bởi · Updated by"], [""]],
				list.map((s) => scheduleRow(s, operator)),
				"Không có lịch nào · no schedules"));
	}

	function scheduleRow(s, operator) {
		const cronCell = td({ class: "cron" });
		const showCron = () => {
			cronCell.replaceChildren();
			add(cronCell, [el("code", null, s.cron),
				s.configured && s.configured !== s.cron ? el("span", { class: "configured" }, "Cấu hình · configured: ", el("code", null, s.configured)) : null]);
		};
		showCron();
		const actions = [];
		if (operator) {
			actions.push(
				el("button", { type: "button", "data-action": "run", title: "Run now", onclick: (ev) => act(ev.currentTarget, async () => {
					const res = await api("POST", "/schedules/" + seg(s.name) + "/run");
					showMsg("Đã đưa lịch " + s.name + " vào hàng đợi · enqueued: " + res.task_id);
					await rerender();
				}) }, "Chạy ngay"),
				el("button", { type: "button", class: "secondary", "data-action": s.paused ? "resume" : "pause", title: s.paused ? "Resume" : "Pause", onclick: (ev) => act(ev.currentTarget, async () => {
					await api("POST", "/schedules/" + seg(s.name) + (s.paused ? "/resume" : "/pause"));
					showMsg((s.paused ? "Đã tiếp tục lịch " : "Đã tạm dừng lịch ") + s.name);
					await rerender();
				}) }, s.paused ? "Tiếp tục" : "Tạm dừng"),
				el("button", { type: "button", class: "secondary", "data-action": "edit-cron", title: "Edit the cron expression", onclick: () => editCron(cronCell, s, showCron) }, "Sửa cron"));
		}
		return el("tr", { dataset: { schedule: s.name } },
			td(el("strong", null, s.name)), td(s.job), td(s.connector || "—"), cronCell,
			td(s.paused ? badge("paused", "Tạm dừng · paused") : badge("active", "Hoạt động · active")),
			td(s.paused ? el("span", { class: "muted" }, "(bỏ qua) ", time(s.next)) : time(s.next)), td(time(s.prev)),
			td(s.updated_by ? [s.updated_by, el("br"), time(s.updated_at)] : el("span", { class: "muted" }, "theo cấu hình")),
			td({ class: "actions" }, actions));
	}

	function editCron(cell, s, cancel) {
		const { zone, expr } = withoutZone(s.cron);
		const input = el("input", { type: "text", name: "cron", value: expr, spellcheck: "false", "aria-label": "Biểu thức cron", required: true });
		const error = el("p", { class: "error cron-error", role: "alert", hidden: true });
		const save = el("button", { type: "submit", "data-action": "save-cron", title: "Save" }, "Lưu");
		const form = el("form", { class: "cron-edit", onsubmit: async (ev) => {
			ev.preventDefault();
			error.hidden = true;
			save.disabled = true;
			try {
				const res = await api("PUT", "/schedules/" + seg(s.name), { cron: input.value });
				showMsg("Đã đổi lịch " + s.name + " · cron now: " + res.cron);
				await rerender();
			} catch (err) {
				if (err.status === 401) return;
				error.textContent = err.message; // the server's message, verbatim
				error.hidden = false;
				input.focus();
			} finally {
				if (save.isConnected) save.disabled = false;
			}
		} },
		input, save,
		el("button", { type: "button", class: "secondary", onclick: cancel }, "Huỷ"),
		zone ? el("span", { class: "hint" }, "Múi giờ · zone: " + zone) : null,
		error);
		input.addEventListener("keydown", (ev) => {
			if (ev.key === "Escape") cancel();
		});
		cell.replaceChildren(form);
		input.focus();
		input.select();
	}

	// ---- lists paged by the server ------------------------------------------

	// Every time in the lists is Hanoi's; the label says so.
	const ZONE_LABEL = "giờ Hà Nội (UTC+7)";

	// trail remembers, for the list being read, the cursor of each page from
	// the first: what "previous" goes back to. A mailed link that opens a
	// later page starts a trail of its own, whose "previous" is the first page.
	const trail = { key: "", cursors: [""] };

	// withoutCursor is the hash query of a list without its cursor: the key
	// of its filters.
	function withoutCursor(q) {
		const p = new URLSearchParams(q);
		p.delete("cursor");
		p.sort();
		return p.toString();
	}

	// listHash is the hash of view with the query q.
	function listHash(view, q) {
		const s = q.toString();
		return "#/" + view + (s ? "?" + s : "");
	}

	function go(next) {
		if (location.hash === next) rerender();
		else location.hash = next;
	}

	// pager shows where this page is in the list (rows a–b of the total, in
	// Vietnamese digits) and moves to the first, previous and next pages by
	// changing the hash's cursor.
	function pager(view, q, page, limit, what) {
		const key = view + "?" + withoutCursor(q);
		const cur = q.get("cursor") || "";
		let i = trail.cursors.indexOf(cur);
		if (trail.key !== key || i < 0) {
			trail.key = key;
			trail.cursors = cur ? [null, cur] : [""];
			i = cur ? 1 : 0;
		}
		const known = trail.cursors[0] !== null;
		const at = (c) => {
			const p = new URLSearchParams(q);
			if (c) p.set("cursor", c);
			else p.delete("cursor");
			return listHash(view, p);
		};
		const n = page.items.length;
		const from = i * limit + 1;
		const where = n === 0 ? "0" : known ? fmtNum(from) + "–" + fmtNum(from + n - 1) : fmtNum(n) + " hàng";
		const prev = i > 0 ? (trail.cursors[i - 1] ?? "") : null;
		return el("div", { class: "pager", dataset: { total: String(page.total), shown: String(n) } },
			el("span", { class: "pager-where" }, where, " / ",
				el("strong", { class: "total", title: String(page.total) }, fmtNum(page.total)), " " + what),
			el("span", { class: "spacer" }),
			i > 1 ? el("button", { type: "button", class: "secondary", "data-action": "first-page",
				onclick: () => go(at("")) }, "« Trang đầu") : null,
			el("button", { type: "button", class: "secondary", "data-action": "prev-page", disabled: prev === null,
				onclick: () => go(at(prev)) }, "‹ Trang trước"),
			el("button", { type: "button", class: "secondary", "data-action": "next-page", disabled: !page.next_cursor,
				onclick: () => {
					trail.cursors = trail.cursors.slice(0, i + 1).concat(page.next_cursor);
					go(at(page.next_cursor));
				} }, "Trang sau ›"));
	}

	// pageLimit reads the hash's limit: one of the page sizes offered.
	const PAGE_SIZES = [50, 100, 200];
	function pageLimit(q) {
		const n = Number(q.get("limit"));
		return PAGE_SIZES.includes(n) ? n : 100;
	}

	// lateness says how long past its due a breach is (until its end, or
	// now), or how long is left: "trễ 3 ngày", "còn 5 giờ".
	function lateness(due, until) {
		if (!due) return "";
		const ms = (until ? new Date(until) : new Date()) - new Date(due);
		const h = Math.floor(Math.abs(ms) / 3600000);
		const span = h >= 48 ? fmtNum(Math.floor(h / 24)) + " ngày" : h >= 1 ? fmtNum(h) + " giờ" : "dưới 1 giờ";
		return ms >= 0 ? "trễ " + span : "còn " + span;
	}

	function labelled(label, input) {
		return el("label", { class: "field" }, el("span", null, label), input);
	}

	function choice(name, label, value, options) {
		return labelled(label, el("select", { name }, options.map(([v, text]) =>
			el("option", { value: v, selected: v === (value || "") }, text))));
	}

	function textField(name, label, value, placeholder) {
		return labelled(label, el("input", { type: name === "q" ? "search" : "text", name, value: value || "",
			placeholder: placeholder || "", spellcheck: "false" }));
	}

	// filterForm reads its fields into the hash (no cursor: a new filter
	// starts at the first page); a select applies at once.
	function filterForm(view, q, fields, keep) {
		const form = el("form", { class: "filters", role: "search", onsubmit: (ev) => {
			ev.preventDefault();
			const p = new URLSearchParams();
			for (const k of keep || []) if (q.get(k)) p.set(k, q.get(k));
			for (const e of form.elements) {
				if (!e.name) continue;
				const v = e.value.trim();
				if (v) p.set(e.name, v);
			}
			go(listHash(view, p));
		} },
		fields,
		el("div", { class: "filter-actions" },
			el("button", { type: "submit" }, "Lọc · Filter"),
			el("button", { type: "button", class: "secondary", "data-action": "clear-filters",
				onclick: () => go("#/" + view) }, "Bỏ lọc")));
		for (const s of form.querySelectorAll("select")) s.addEventListener("change", () => form.requestSubmit());
		// On a phone the filters fold away, unless some are set.
		const set = [...form.elements].filter((e) => e.name && e.name !== "limit" && e.value).length;
		const phone = window.matchMedia("(max-width: 60rem)").matches;
		return el("details", { class: "filter-box", open: !phone || set > 0 },
			el("summary", null, "Bộ lọc · Filters" + (set ? " (" + fmtNum(set) + ")" : "")), form);
	}

	// filterLink makes content a link to the breaches list of q with name set
	// to value (its first page): a name in a row narrows the list to it.
	function filterLink(q, name, value, content) {
		if (!value) return content;
		const p = new URLSearchParams(q);
		p.delete("cursor");
		p.set(name, value);
		return el("a", { href: listHash("breaches", p), class: "filter-link", title: "Lọc theo · filter by " + value }, content);
	}

	// ---- breaches -----------------------------------------------------------

	const SEVERITIES = { info: "Thông tin", warning: "Cảnh báo", critical: "Nghiêm trọng" };
	const BREACH_FILTERS = ["state", "sort", "kind", "severity", "silenced", "agency", "department", "official", "procedure", "recipient", "q"];

	async function breaches(r) {
		const q = r.query;
		if (q.get("all") && !q.get("state")) q.set("state", "all"); // links of the former form
		q.delete("all");
		const limit = pageLimit(q);
		const params = new URLSearchParams();
		for (const k of BREACH_FILTERS) if (q.get(k)) params.set(k, q.get(k));
		if (q.get("cursor")) params.set("cursor", q.get("cursor"));
		params.set("limit", String(limit));
		const page = await api("GET", "/breaches?" + params.toString());

		const filter = filterForm("breaches", q, [
			textField("q", "Mã hồ sơ / số biên nhận · code or receipt", q.get("q"), "000.00.31.H99-…"),
			choice("state", "Trạng thái · State", q.get("state"), [["", "Đang mở · open"], ["resolved", "Đã kết thúc · resolved"], ["all", "Tất cả · all"]]),
			choice("sort", "Sắp xếp · Sort", q.get("sort"), [["", "Trễ nhất trước · most late"], ["due", "Hạn muộn nhất trước · latest due"],
				["detected", "Mới phát hiện trước · newest"]]),
			choice("kind", "Loại · Kind", q.get("kind"), [["", "Tất cả loại · all kinds"],
				...(window.DVCWATCH_KINDS || []).map((k) => [k.kind, k.label])]),
			choice("severity", "Mức độ · Severity", q.get("severity"), [["", "Mọi mức · any"],
				...Object.entries(SEVERITIES)]),
			choice("silenced", "Tắt cảnh báo · Silenced", q.get("silenced"), [["", "Cả hai · both"], ["yes", "Đang tắt · silenced"], ["no", "Không · not silenced"]]),
			textField("agency", "Mã cơ quan · agency", q.get("agency")),
			textField("department", "Mã phòng ban · department", q.get("department")),
			textField("official", "Mã cán bộ · official", q.get("official")),
			textField("procedure", "Mã thủ tục · procedure", q.get("procedure")),
			choice("limit", "Mỗi trang · per page", String(limit === 100 ? "" : limit), [["", "100"], ["50", "50"], ["200", "200"]]),
		], ["recipient"]);

		const operator = can("operator");
		const cols = [["Hồ sơ · Dossier", "c-dossier"], ["Vi phạm · Breach", "c-kind"], ["Cơ quan / phòng ban", "c-org"],
			["Cán bộ · Official", "c-person"], ["Hạn · Due", "c-due"], ["Phát hiện · Detected", "c-time"],
			["Trạng thái · State", "c-state"]];
		if (operator) cols.push(["", "c-actions"]);
		const rows = [];
		for (const b of page.items) {
			const formRow = el("tr", { class: "ack-row", hidden: true, dataset: { ackFor: String(b.id) } });
			const actions = [];
			if (operator) {
				actions.push(el("button", { type: "button", class: "secondary", "data-action": "ack", title: "Acknowledge", onclick: () => {
					if (formRow.hidden) openAck(formRow, b, cols.length);
					else formRow.hidden = true;
				} }, "Xác nhận"));
				if (!b.silenced && !b.resolved_at) {
					actions.push(el("button", { type: "button", class: "secondary", "data-action": "silence", title: "Silence this dossier's breaches of this kind",
						onclick: () => { location.hash = "#/silences?dossier=" + seg(b.code) + "&kind=" + seg(b.kind); } }, "Tắt cảnh báo"));
				}
			}
			rows.push(el("tr", { dataset: { breach: String(b.id), kind: b.kind, silenced: String(!!b.silenced), due: b.due_at || "" } },
				td({ class: "c-dossier", "data-label": "Hồ sơ" },
					el("a", { href: dossierHref(b.source, b.code), class: "dossier-link" }, el("code", null, b.code)), el("br"),
					el("span", { class: "muted" }, b.source + (b.step ? " · bước " + fmtNum(b.step) : ""))),
				td({ class: "c-kind", "data-label": "Vi phạm" },
					el("span", { title: b.kind }, b.label || KIND_LABELS[b.kind] || b.kind), " ",
					badge(b.severity, SEVERITIES[b.severity] || b.severity),
					b.detail ? [el("br"), el("span", { class: "muted breach-detail" }, b.detail)] : null),
				td({ class: "c-org", "data-label": "Cơ quan" },
					filterLink(q, "agency", b.agency, named({ code: b.agency, name: b.agency_name }, "agency")), el("br"),
					el("span", { class: "muted" }, filterLink(q, "department", b.department,
						named({ code: b.department, name: b.department_name }, "department")))),
				td({ class: "c-person", "data-label": "Cán bộ" },
					filterLink(q, "official", b.official, person({ id: b.official, name: b.official_name }))),
				td({ class: "c-due", "data-label": "Hạn" }, time(b.due_at),
					b.due_at ? [el("br"), el("span", { class: "late" }, lateness(b.due_at, b.resolved_at))] : null),
				td({ class: "c-time", "data-label": "Phát hiện" }, time(b.detected_at)),
				td({ class: "c-state", "data-label": "Trạng thái" },
					b.resolved_at ? ["Kết thúc ", time(b.resolved_at)] : badge("pending", "Đang mở"),
					b.silenced ? [el("br"), silencedBadge(b.silence_id)] : null),
				operator ? td({ class: "c-actions actions" }, actions) : null));
			rows.push(formRow);
		}
		return el("div", { class: "list-view" },
			heading("Vi phạm · Breaches", refreshButton()),
			q.get("recipient") ? el("p", { class: "hint" }, "Các vi phạm đã báo cho · breaches told to ", el("strong", null, q.get("recipient")),
				" · ", el("a", { href: "#/breaches" }, "xem tất cả · all")) : null,
			filter,
			el("p", { class: "hint zone" }, "Thời gian theo " + ZONE_LABEL + "."),
			operator ? null : el("p", { class: "hint" }, "Chỉ vận hành viên (operator) hoặc quản trị viên được ghi nhận xác nhận."),
			pager("breaches", q, page, limit, "vi phạm"),
			table(cols, rows, "Không có vi phạm nào khớp bộ lọc · no breaches", "stack breaches-table"),
			page.items.length > 20 ? pager("breaches", q, page, limit, "vi phạm") : null);
	}

	function openAck(row, b, ncols) {
		const official = el("input", { type: "text", name: "official", required: true, value: b.official || "",
			placeholder: "Mã cán bộ · official id", "aria-label": "Mã cán bộ" });
		const reason = el("input", { type: "text", name: "reason", required: true, placeholder: "Lý do · reason", "aria-label": "Lý do" });
		const error = el("span", { class: "error", role: "alert", hidden: true });
		const submit = el("button", { type: "submit" }, "Ghi nhận · Acknowledge");
		const form = el("form", { class: "ack", onsubmit: async (ev) => {
			ev.preventDefault();
			error.hidden = true;
			submit.disabled = true;
			try {
				await api("POST", "/breaches/" + seg(String(b.id)) + "/ack", { official: official.value.trim(), reason: reason.value.trim() });
				showMsg("Đã ghi nhận xác nhận hồ sơ " + b.code + " · acknowledged");
				await rerender();
			} catch (err) {
				if (err.status === 401) return;
				error.textContent = err.message;
				error.hidden = false;
			} finally {
				if (submit.isConnected) submit.disabled = false;
			}
		} },
		el("span", null, "Xác nhận cho hồ sơ ", el("code", null, b.code), ":"), official, reason, submit,
		el("button", { type: "button", class: "secondary", onclick: () => { row.hidden = true; } }, "Huỷ"), error);
		row.replaceChildren(el("td", { colspan: ncols }, form));
		row.hidden = false;
		(official.value ? reason : official).focus();
	}

	// ---- silences -----------------------------------------------------------

	// The labels a silence matches by, in the API's order.
	const SILENCE_LABELS = [
		["kind", "Loại vi phạm · kind"], ["agency", "Mã cơ quan · agency"], ["department", "Phòng ban · department"],
		["official", "Mã cán bộ · official"], ["procedure", "Mã thủ tục · procedure"], ["dossier", "Mã hồ sơ · dossier"],
	];

	// silencedBadge marks a breach an active silence mutes: recorded, and
	// mailed to nobody.
	function silencedBadge(id) {
		return el("a", { href: "#/silences", class: "state silenced", "data-silence": String(id),
			title: "Recorded, mailed to nobody while the silence lasts" }, "Đã tắt cảnh báo #" + id);
	}

	function matcherList(m) {
		return SILENCE_LABELS.filter(([k]) => m && m[k]).map(([k]) =>
			el("span", { class: "matcher", dataset: { label: k } }, k + "=", el("code", null, m[k])));
	}

	async function silences(r) {
		const all = !!r.query.get("all");
		const list = await api("GET", "/silences?" + (all ? "all=1&" : "") + "limit=500");
		const operator = can("operator");
		const include = el("input", { type: "checkbox", name: "all", checked: all });
		include.addEventListener("change", () => {
			location.hash = "#/silences" + (include.checked ? "?all=1" : "");
		});
		const cols = [["#", "num"], ["Điều kiện · Matchers"], ["Từ · From"], ["Đến · Until"], ["Lý do · Reason"],
			["Tạo bởi · By"], ["Trạng thái · State"], [""]];
		return el("div", null,
			heading("Tắt cảnh báo · Silences", el("label", null, include, "Gồm cả đã kết thúc · include ended"), refreshButton()),
			el("p", { class: "hint" }, "Vi phạm khớp mọi điều kiện của một lệnh tắt cảnh báo vẫn được ghi nhận và hiển thị, " +
				"nhưng không gửi thư cho ai đến khi lệnh kết thúc; lần phát hiện sau đó gửi các cảnh báo bị giữ lại."),
			operator ? silenceForm(r.query) : el("p", { class: "hint" }, "Chỉ vận hành viên (operator) hoặc quản trị viên được tắt cảnh báo."),
			table(cols, list.map((s) => silenceRow(s, operator)),
				all ? "Chưa có lệnh tắt cảnh báo nào · no silences" : "Không có lệnh tắt cảnh báo nào đang hiệu lực · no active silences"));
	}

	function silenceRow(s, operator) {
		let stateBadge = badge("active", "Đang hiệu lực · active");
		if (!s.active) stateBadge = badge("ended", s.expired_by ? "Kết thúc bởi · expired by " + s.expired_by : "Đã hết hạn · ended");
		const actions = [];
		if (operator && s.active) {
			actions.push(el("button", { type: "button", class: "danger", "data-action": "expire", title: "Expire now", onclick: (ev) => act(ev.currentTarget, async () => {
				await api("POST", "/silences/" + seg(String(s.id)) + "/expire");
				showMsg("Đã kết thúc lệnh tắt cảnh báo #" + s.id + "; lần phát hiện tới gửi các cảnh báo bị giữ lại · expired");
				await rerender();
			}) }, "Kết thúc"));
		}
		return el("tr", { dataset: { silence: String(s.id), active: String(!!s.active) } },
			num(s.id), td({ class: "matchers" }, matcherList(s.matchers)), td(time(s.starts_at)), td(time(s.ends_at)),
			td({ class: "reason" }, s.reason || ""), td({ class: "created-by" }, s.created_by || "—"), td({ class: "silence-state" }, stateBadge),
			td({ class: "actions" }, actions));
	}

	// silenceForm adds a silence; q prefills its matchers (a breach's
	// "silence" button passes its dossier and kind).
	function silenceForm(q) {
		const inputs = {};
		const fields = SILENCE_LABELS.map(([k, label]) => {
			inputs[k] = k === "kind"
				? el("select", { name: k },
					el("option", { value: "" }, "— bất kỳ · any —"),
					(window.DVCWATCH_KINDS || []).map((x) => el("option", { value: x.kind, selected: x.kind === q.get(k) }, x.label)))
				: el("input", { type: "text", name: k, value: q.get(k) || "", spellcheck: "false" });
			return el("label", null, el("span", null, label), inputs[k]);
		});
		const until = el("input", { type: "text", name: "ends_at", placeholder: "YYYY-MM-DD HH:MM", spellcheck: "false" });
		const duration = el("input", { type: "text", name: "duration", placeholder: "72h, 3d, 1w", spellcheck: "false" });
		const reason = el("input", { type: "text", name: "reason", required: true });
		const error = el("p", { class: "error silence-error", role: "alert", hidden: true });
		const submit = el("button", { type: "submit", "data-action": "add-silence" }, "Tắt cảnh báo · Silence");
		const fail = (message) => {
			error.textContent = message;
			error.hidden = false;
		};
		const form = el("form", { class: "silence-form", onsubmit: async (ev) => {
			ev.preventDefault();
			error.hidden = true;
			const body = { matchers: {}, reason: reason.value.trim() };
			for (const [k] of SILENCE_LABELS) if (inputs[k].value.trim()) body.matchers[k] = inputs[k].value.trim();
			const u = until.value.trim();
			if (u) {
				const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})$/.exec(u);
				if (!m) return fail("ends_at \"" + u + "\": want YYYY-MM-DD HH:MM (Asia/Ho_Chi_Minh)");
				body.ends_at = m[1] + "T" + m[2] + ":00+07:00"; // Vietnam keeps +07:00 all year
			}
			if (duration.value.trim()) body.duration = duration.value.trim();
			submit.disabled = true;
			try {
				const s = await api("POST", "/silences", body);
				// Drop the prefill from the address without a hashchange,
				// which would clear the message.
				history.replaceState(null, "", "#/silences");
				showMsg("Đã tắt cảnh báo #" + s.id + " đến " + fmtTime(s.ends_at) + " · silenced");
				await rerender();
			} catch (err) {
				if (err.status !== 401) fail(err.message); // the server's message, verbatim
			} finally {
				if (submit.isConnected) submit.disabled = false;
			}
		} },
		el("div", { class: "silence-matchers" }, fields),
		el("div", { class: "silence-until" },
			el("label", null, el("span", null, "Đến · ends_at"), until),
			el("span", { class: "muted" }, "hoặc · or"),
			el("label", null, el("span", null, "Trong · duration"), duration),
			el("label", { class: "silence-reason" }, el("span", null, "Lý do · reason"), reason),
			submit),
		error);
		return form;
	}

	// ---- dossiers -----------------------------------------------------------

	// A dossier's page: its facts (the applicant masked by the server), the
	// due and how the rules found it, the status history, steps, supplement
	// rounds, apologies, breaches and the emails that told of them. Names are
	// shown with their codes on hover.

	const numberFormat = new Intl.NumberFormat("vi-VN");
	const fmtNum = (n) => numberFormat.format(n);
	const WEEKDAYS = ["Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
	const DAY_KINDS = {
		weekend: "Cuối tuần", holiday: "Ngày lễ", compensatory: "Nghỉ bù", day_off: "Nghỉ theo thông báo", working_weekend: "Làm bù",
	};
	const SKIPS = {
		receipt: "trước ngày tiếp nhận · before the receipt day", not_counted: "không tính · not counted",
		period_end: "ngày cuối là ngày nghỉ, lùi sang ngày làm việc sau (điều 148 khoản 5) · last day moved",
	};
	const RESOLVED_REASONS = { ended: "hết vi phạm · ended", rule_changed: "quy tắc thay đổi · rules changed" };

	// fmtDay writes a "YYYY-MM-DD" day as "Thứ Năm 23/04/2026".
	function fmtDay(s) {
		const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
		if (!m) return s || "—";
		const wd = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
		return WEEKDAYS[wd] + " " + m[3] + "/" + m[2] + "/" + m[1];
	}

	// hoursOf writes minutes of office time as hours, e.g. "10,5 giờ".
	function hoursOf(minutes) {
		return fmtNum(Math.round((minutes || 0) / 6) / 10) + " giờ";
	}

	// named shows a name with its code on hover.
	function named(x, cls) {
		if (!x || (!x.code && !x.name)) return el("span", { class: "muted" }, "—");
		return el("span", { class: cls, title: x.code || undefined, dataset: x.code ? { code: x.code } : undefined }, x.name || x.code);
	}

	// person shows an official's name with the id on hover.
	function person(p) {
		if (!p || (!p.id && !p.name)) return el("span", { class: "muted" }, "—");
		return el("span", { title: p.id || undefined, dataset: p.id ? { official: p.id } : undefined }, p.name || p.id);
	}

	function facts(pairs) {
		return el("dl", { class: "facts" }, pairs.filter((p) => p).map(([label, value]) => [el("dt", null, label), el("dd", null, value)]));
	}

	function section(name, title, ...body) {
		return el("section", { class: "dossier-section", dataset: { section: name } }, el("h2", null, title), body);
	}

	function nothing(text) {
		return el("p", { class: "muted" }, text);
	}

	const dossierHref = (source, code) => "#/dossiers/" + seg(source) + "/" + seg(code);

	async function dossiers(r) {
		if (r.args.length >= 2) return dossierPage(r.args[0], r.args.slice(1).join("/"));
		const code = (r.query.get("code") || "").trim();
		const head = heading("Tra cứu hồ sơ · Find a dossier");
		if (!code) return el("div", null, head, nothing("Nhập mã hồ sơ vào ô tìm kiếm trên thanh trên cùng · type a dossier code in the top bar."));
		const found = await api("GET", "/dossiers?code=" + seg(code));
		if (found.length === 1) {
			// The only one: its page, in place of the search in the history.
			location.replace(dossierHref(found[0].source, found[0].code));
			return el("p", { class: "muted" }, "Đang mở hồ sơ " + found[0].code + "…");
		}
		if (found.length === 0) {
			return el("div", null, head, el("p", { class: "error", dataset: { notFound: code } },
				"Không tìm thấy hồ sơ có mã " + code + " ở nguồn nào · no dossier with this code in any source."));
		}
		return el("div", null, head,
			el("p", { class: "hint" }, "Mã " + code + " có ở " + fmtNum(found.length) + " nguồn · found in " + found.length + " sources:"),
			el("ul", { class: "found" }, found.map((d) => el("li", { dataset: { source: d.source } },
				el("a", { href: dossierHref(d.source, d.code) }, el("code", null, d.code), " · " + d.source),
				" — ", d.procedure.name || "", " · ", named(d.agency), " · ", d.status.label,
				d.due_at ? [" · hẹn trả ", time(d.due_at)] : null))));
	}

	async function dossierPage(source, code) {
		const d = await api("GET", "/dossiers/" + seg(source) + "/" + seg(code));
		const dates = d.dates || {};
		const open = d.due ? d.due.open : !["processed", "returned", "refused", "withdrawn", "stopped"].includes(d.status.name);
		return el("div", { class: "dossier", dataset: { source: d.source, code: d.code } },
			heading(el("span", null, "Hồ sơ · Dossier ", el("code", { class: "dossier-code" }, d.code)), refreshButton()),
			el("p", { class: "hint" }, "Nguồn · source: ", el("strong", null, d.source),
				(d.other_sources || []).length ? [" · cũng có ở · also in: ",
					d.other_sources.map((s, i) => [i ? ", " : "", el("a", { href: dossierHref(s, d.code) }, s)])] : null,
				" · Mọi thời gian theo giờ Việt Nam (Asia/Ho_Chi_Minh, UTC+7)."),
			el("div", { class: "dossier-grid" },
				el("div", { class: "card", dataset: { section: "facts" } },
					el("h2", null, "Thông tin · Facts"),
					facts([
						["Thủ tục · Procedure", named(d.procedure)],
						d.field && d.field.code ? ["Lĩnh vực · Field", named(d.field)] : null,
						["Cơ quan · Agency", named(d.agency, "agency")],
						["Trạng thái · Status", [badge(open ? "pending" : "completed", d.status.label), " ",
							el("span", { class: "muted", title: "Trạng thái gốc · raw: " + (d.status.raw || "") }, d.status.name)]],
						["Số biên nhận · Receipt", d.receipt_no || "—"],
						["Kênh · Channel", d.channel.label || "—"],
						["Đối tượng · Applicant", [d.applicant_kind.label || "", d.applicant_kind.label ? " · " : "",
							el("span", { class: "applicant" }, [d.applicant.name, d.applicant.phone].filter((x) => x).join(", ") || "—"),
							el("span", { class: "muted" }, " (đã che · masked)")]],
					])),
				el("div", { class: "card", dataset: { section: "dates" } },
					el("h2", null, "Ngày trên cổng · Portal dates"),
					facts([
						["Nộp · Submitted", time(dates.submitted)],
						["Tiếp nhận · Received", time(dates.received)],
						["Hẹn trả · Appointment", dates.due ? time(dates.due) : el("span", { class: "muted" }, "không ghi · none")],
						dates.processed ? ["Xử lý xong · Processed", time(dates.processed)] : null,
						dates.returned ? ["Trả kết quả · Returned", time(dates.returned)] : null,
						dates.refused ? ["Từ chối · Refused", time(dates.refused)] : null,
						["Cập nhật từ nguồn · Updated", time(dates.source_updated)],
					]))),
			dueSection(d),
			section("history", "Lịch sử trạng thái · Status history", timeline(d)),
			section("steps", "Các bước xử lý · Steps", stepList(d.steps || [])),
			section("supplements", "Yêu cầu bổ sung · Supplements", supplementList(d.supplements || [])),
			section("apologies", "Văn bản xin lỗi, hẹn lại · Apologies", apologyList(d.apologies || [])),
			section("breaches", "Vi phạm · Breaches", breachList(d.breaches || [])),
			section("emails", "Thư đã báo · Emails", emailList(d.emails || [])));
	}

	// ---- the due ----

	const BASES = {
		none: "Không có hạn để đánh giá · no due",
		appointment: "Ngày hẹn trả ghi trên phiếu tiếp nhận · the receipt's appointment",
		computed: "Hạn tính theo thời hạn luật định, vì cổng không ghi ngày hẹn trả · the computed legal due stands in",
		supplement_appointment: "Ngày hẹn trả mới của lần bổ sung · a supplement round's new appointment",
		restart: "Thời hạn tính lại từ khi nhận đủ hồ sơ bổ sung · the limit restarted from the complete documents",
	};

	function dueSection(d) {
		const x = d.due;
		if (!x) {
			return section("due", "Hạn giải quyết · The due", el("p", { class: "error" }, "Không tính được hạn · the due could not be explained: " + (d.due_error || "")));
		}
		const basis = BASES[x.basis] || x.basis;
		const lead = x.due_at
			? el("p", { class: "due-lead" }, "Hạn dùng để đánh giá · judged against: ", el("strong", { class: "due-at" }, time(x.due_at)),
				" — ", basis, x.round ? " (lần " + fmtNum(x.round) + ")" : "", ".")
			: el("p", { class: "due-lead" }, basis, ": ", d.status.name === "submitted"
				? "hồ sơ chưa được tiếp nhận · not received yet."
				: d.status.name === "withdrawn" ? "công dân đã rút hồ sơ · withdrawn."
					: "cổng không ghi ngày hẹn trả và thủ tục chưa được cấu hình thời hạn · no appointment and no configured limit.");
		return section("due", "Hạn giải quyết và cách tính · The due and how it was computed",
			lead,
			el("p", { class: "hint" }, x.compared_by === "minute"
				? "So sánh đến từng phút · compared to the minute."
				: "So sánh theo ngày: xong trong ngày hẹn là đúng hạn · compared by date: finished on the due date is on time."),
			x.moves.length ? el("ol", { class: "moves" }, x.moves.map((m) => el("li", { dataset: { move: m.kind } }, moveText(m, x)))) : null,
			x.waiting_since ? el("p", { class: "waiting" }, "Thời hạn đang tạm dừng từ · the clock stands still since ", time(x.waiting_since), ".") : null,
			x.stopped ? el("p", { class: "waiting" }, "Hồ sơ đang chờ công dân nhưng dữ liệu không cho biết từ lúc nào: chưa tính quá hạn · waiting since a time the data does not say.") : null,
			x.legal ? legalDue(x.legal, x) : el("p", { class: "muted" }, "Thủ tục chưa được cấu hình thời hạn luật định · the procedure's limit is not configured."));
	}

	// moveText says one step of finding the due, as the rules took it.
	function moveText(m, x) {
		const round = "lần " + fmtNum(m.round || 0);
		const from = m.before ? [" ", time(m.before), " → "] : [" "];
		const moved = m.added_days
			? [": hạn lùi " + fmtNum(m.added_days) + " ngày làm việc · moved by " + m.added_days + " working day(s),", from, time(m.due)]
			: [": không lùi hạn · the due does not move (", time(m.due), ")"];
		switch (m.kind) {
		case "appointment":
			return ["Ngày hẹn trả trên phiếu tiếp nhận (NgayHenTra) · the receipt's appointment: ", time(m.due)];
		case "computed":
			return ["Cổng không ghi ngày hẹn trả: tính thời hạn luật định " + (x.limit || "") + " từ khi tiếp nhận ", time(m.start),
				" → ", time(m.due), " · no appointment: the computed legal due stands in"];
		case "supplement_appointment":
			return ["Yêu cầu bổ sung " + round + " (", time(m.start), m.end ? [", nhận đủ ", time(m.end)] : "",
				"): ngày hẹn trả mới (NgayHenTraMoi) thay thế ·  the round's new appointment replaces the due:", from, time(m.due)];
		case "supplement_waiting":
			return ["Yêu cầu bổ sung " + round + " từ ", time(m.start), ", chưa nhận đủ hồ sơ: thời hạn tạm dừng · round still open, the clock stands still"];
		case "restart":
			return ["Nhận đủ hồ sơ bổ sung " + round + " lúc ", time(m.end), ": thời hạn " + (x.limit || "") +
				" tính lại từ đầu (Nghị định 118/2025/NĐ-CP điều 19 khoản 5) · the limit restarts:", from, time(m.due)];
		case "supplement_pause":
			return ["Bổ sung " + round + " từ ", time(m.start), " đến ", time(m.end), " (" + hoursOf(m.paused_minutes) +
				" làm việc): thời hạn tạm dừng · the round pauses the clock", moved];
		case "payment_pause":
			return ["Chờ thực hiện nghĩa vụ tài chính từ ", time(m.start), " đến ", time(m.end), " (" + hoursOf(m.paused_minutes) +
				" làm việc) · waiting for payment pauses the clock", moved];
		case "payment_waiting":
			return ["Đang chờ thực hiện nghĩa vụ tài chính từ ", time(m.start), ": thời hạn tạm dừng, hạn lùi khi hết chờ · waiting for payment: the due moves once it ends"];
		case "payment_before_count":
			return ["Chờ thực hiện nghĩa vụ tài chính từ ", time(m.start), " trước khi thời hạn được tính lại: không tính · before the count restarted, not counted"];
		}
		return [m.kind, ": ", time(m.due)];
	}

	// legalDue shows the computed legal due as "dvcwatch calendar due" does.
	function legalDue(c, x) {
		const officeTime = !!c.start;
		const from = x.count_round
			? "Đếm từ khi nhận đủ hồ sơ bổ sung lần " + fmtNum(x.count_round) + " · counted from round " + x.count_round
			: "Đếm từ khi tiếp nhận · counted from the receipt";
		const moved = c.receipt_moved === "after_cutoff"
			? "; nhận từ " + c.cutoff + " trở đi nên tính như nhận ngày làm việc sau · received at or after the cutoff"
			: c.receipt_moved === "non_working_day" ? "; nhận vào ngày nghỉ nên tính như nhận ngày làm việc sau · received on a non-working day" : "";
		const counting = c.counting === "office_hours"
			? "theo giờ hành chính từ lúc tiếp nhận · office_hours (working days as office time from the receipt)"
			: c.limit.endsWith("h")
				? "theo giờ làm việc từ lúc tiếp nhận · hours are office time from the receipt"
				: "theo ngày (Bộ luật Dân sự 2015 điều 147–148): không tính ngày tiếp nhận, hạn là cuối giờ làm việc của ngày cuối · dates";
		return el("div", { class: "legal", dataset: { counting: c.counting } },
			el("h3", null, "Thời hạn luật định · Legal due (", el("code", null, c.limit), ")"),
			el("p", { class: "hint" }, from, "."),
			facts([
				["Hạn luật định · Legal due", el("strong", { class: "legal-due" }, time(c.due))],
				["Tiếp nhận · Received", time(c.received)],
				["Cách tính · Counting", counting],
				officeTime
					? ["Tính từ · Counting from", [time(c.start), moved]]
					: ["Ngày tiếp nhận (không tính) · Receipt day", [fmtDay(c.receipt_day), moved]],
				officeTime
					? ["Thời gian tính · Office time", hoursOf(c.office_time_minutes)]
					: ["Ngày 1 · Day 1", fmtDay(c.first_day)],
				officeTime ? null : ["Ngày cuối · Last day", [fmtDay(c.last_day) + ", ngày thứ " + fmtNum(c.days),
					c.added_days ? " (" + fmtNum(c.days - c.added_days) + " + " + fmtNum(c.added_days) + " do tạm dừng · added by pauses)" : ""]],
				["Giờ làm việc · Office hours", (c.office_hours || []).join(", ") + "; nhận sau " + c.cutoff + " tính từ ngày làm việc sau"],
			]),
			el("h3", null, "Ngày nghỉ được bỏ qua · Non-working days skipped (" + fmtNum(c.skipped.length) + ")"),
			c.skipped.length === 0 ? nothing("Không có · none") : el("ul", { class: "skipped" }, c.skipped.map((s) =>
				el("li", { dataset: { skipped: s.date, kind: s.kind } },
					el("span", { class: "day" }, fmtDay(s.date)), " — ",
					el("span", { class: "state " + s.kind, title: s.kind }, DAY_KINDS[s.kind] || s.kind), " ",
					el("span", { class: "day-name" }, s.name),
					s.skip !== "not_counted" ? el("span", { class: "muted" }, " (" + (SKIPS[s.skip] || s.skip) + ")") : null,
					s.source ? el("span", { class: "muted source" }, " [" + s.source + "]") : null))),
			c.pauses.length ? [el("h3", null, "Tạm dừng · Pauses"), el("ul", null, c.pauses.map((p) =>
				el("li", null, time(p.start), " → ", time(p.end), " (" + hoursOf(p.counted_minutes) + ")")))] : null);
	}

	// ---- history, steps, rounds, apologies ----

	function timeline(d) {
		const items = (d.history || []).map((h) => el("li", { dataset: { to: String(h.to.code) } },
			time(h.at), " ",
			h.from ? [el("span", { title: h.from.raw || h.from.name }, h.from.label), " → "] : el("span", { class: "muted" }, "ghi nhận lần đầu · first seen: "),
			el("strong", { title: h.to.raw || h.to.name }, h.to.label),
			h.observed_by ? el("span", { class: "muted" }, " · " + h.observed_by) : null));
		return [
			items.length ? el("ol", { class: "timeline" }, items) : nothing("Chưa ghi nhận thay đổi trạng thái · no status change recorded"),
			(d.payment_waits || []).length ? el("p", { class: "hint" }, "Chờ thực hiện nghĩa vụ tài chính · waiting for payment: ",
				d.payment_waits.map((w, i) => [i ? "; " : "", time(w.start), " → ", w.end ? time(w.end) : "đang chờ · ongoing"])) : null,
		];
	}

	function stepList(steps) {
		if (steps.length === 0) return nothing("Chưa có bước xử lý · no steps reported");
		return el("ol", { class: "steps" }, steps.map((s) => el("li", { class: s.in_progress ? "step current" : "step", dataset: { step: String(s.seq) } },
			el("div", { class: "step-head" },
				el("strong", null, "Bước " + fmtNum(s.seq)), " · ", person(s.official), " · ", named(s.department),
				s.in_progress ? [" ", badge("pending", "Đang xử lý · in progress")] : null),
			el("div", { class: "step-times" },
				el("span", null, "Bắt đầu · started ", time(s.started_at)),
				el("span", null, "Hạn bước · step due ", s.due_at ? time(s.due_at) : "—"),
				el("span", null, "Kết thúc · ended ", s.ended_at ? time(s.ended_at) : "—")),
			el("details", { class: "updates" },
				el("summary", null, fmtNum(s.updates.length) + " cập nhật tiến độ · progress updates"),
				el("ul", null, s.updates.map((u) => el("li", null, time(u.at || u.started_at), " · ", u.official || "—",
					u.title ? " (" + u.title + ")" : "", u.department ? " · " + u.department : "",
					u.state ? " · " + u.state : "", u.content ? [el("br"), el("span", { class: "content" }, u.content)] : null)))))));
	}

	function supplementList(list) {
		if (list.length === 0) return nothing("Không có · none");
		return el("ol", { class: "plain" }, list.map((x) => el("li", { dataset: { supplement: String(x.seq) } },
			"Lần " + fmtNum(x.seq) + ": yêu cầu · requested ", time(x.requested_at),
			"; nhận đủ · returned ", x.returned_at ? time(x.returned_at) : "chưa · not yet",
			x.due_before ? ["; hẹn trước · due before ", time(x.due_before)] : null,
			x.due_after ? ["; hẹn mới · new due ", time(x.due_after)] : null)));
	}

	function apologyList(list) {
		if (list.length === 0) return nothing("Không có · none");
		return el("ol", { class: "plain" }, list.map((a) => el("li", { dataset: { apology: String(a.seq) } },
			"Phát hành · issued ", time(a.issued_at), "; hẹn lại · new date ", time(a.new_due_at),
			a.issued_by ? " · " + a.issued_by : "", a.reason ? [el("br"), el("span", { class: "muted" }, a.reason)] : null)));
	}

	// ---- breaches and emails ----

	function breachList(list) {
		if (list.length === 0) return nothing("Không có vi phạm · no breaches");
		return el("ul", { class: "breach-cards" }, list.map((b) => el("li", {
			class: "card breach-card" + (b.resolved_at ? " resolved" : ""),
			dataset: { breach: String(b.id), kind: b.kind, silenced: String(!!b.silence) },
		},
		el("div", { class: "breach-head" },
			el("strong", { title: b.kind }, b.label), b.step ? " · bước " + fmtNum(b.step) : "", " ",
			badge(b.severity, b.severity_label), " ",
			b.resolved_at
				? badge("completed", "Đã kết thúc · resolved")
				: badge("pending", "Đang mở · open"),
			b.silence ? [" ", silencedBadge(b.silence.id)] : null),
		facts([
			["Cán bộ · Official", [person(b.official), " · ", named(b.department)]],
			b.due_at ? ["Hạn · Due", time(b.due_at)] : null,
			["Phát hiện · Detected", time(b.detected_at)],
			b.resolved_at ? ["Kết thúc · Resolved", [time(b.resolved_at), " (" + (RESOLVED_REASONS[b.resolved_reason] || b.resolved_reason) + ")"]] : null,
			b.silence ? ["Tắt cảnh báo · Silenced", ["đến · until ", time(b.silence.ends_at), " — " + b.silence.reason + " (" + b.silence.created_by + ")"]] : null,
			["Chi tiết · Detail", b.detail],
			b.acks.length ? ["Xác nhận · Acknowledged", el("ul", { class: "acks" }, b.acks.map((a) => el("li", { dataset: { ack: a.official.id } },
				person(a.official), " · ", time(a.at), " · ", SEVERITIES[a.severity] || a.severity, a.reason ? " — " + a.reason : "")))] : null,
		]))));
	}

	function emailList(list) {
		if (list.length === 0) return nothing("Chưa có thư nào báo về hồ sơ này · no email told of this dossier");
		return el("ul", { class: "emails" }, list.map((e) => el("li", { dataset: { notification: String(e.id) } },
			el("a", { href: "#/emails/" + String(Number(e.id)) }, e.subject || "(không tiêu đề)"), el("br"),
			el("span", { class: "muted" }, "Gửi · to "), person(e.recipient), " · ", badge(e.state, NOTE_LABELS[e.state]),
			" · tạo · created ", time(e.created_at), e.sent_at ? [" · gửi · sent ", time(e.sent_at)] : null,
			e.failed_at ? [" · lỗi · failed ", time(e.failed_at)] : null)));
	}

	// ---- results: the report page ------------------------------------------

	// The results of a month (or a year) as the national service index counts
	// them (GET /api/v1/report): the agency's indicators against the period
	// before, the on-time rate per month of each department (an SVG built
	// with DOM calls: no HTML parser, no library), a table per department and
	// per official. Every count links to the dossiers behind it
	// (#/report/dossiers?…), listed from the same conditions the count is
	// made of. Rates with nothing to count say so; satisfaction is "no data"
	// until citizens' ratings are ingested, never 100%.

	const SVGNS = "http://www.w3.org/2000/svg";

	function svg(tag, attrs, ...children) {
		const e = document.createElementNS(SVGNS, tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v !== undefined && v !== null) e.setAttribute(k, String(v));
		}
		for (const c of children.flat(Infinity)) {
			if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
		}
		return e;
	}

	const pctFormat = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
	const daysFormat = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
	const fmtPct = (v) => (v === null || v === undefined ? "" : pctFormat.format(100 * v) + "%");
	const NO_DATA = "chưa có dữ liệu";

	// The counts of the results, by the name the drill-down takes.
	const MEASURE_LABELS = {
		received: "Tiếp nhận trong kỳ", carried_over: "Kỳ trước chuyển sang",
		finished_early: "Giải quyết trước hạn", finished_on_due: "Giải quyết đúng hạn", finished_late: "Giải quyết quá hạn",
		withdrawn: "Rút hồ sơ", open_within_due: "Đang giải quyết, còn trong hạn", open_overdue: "Đang giải quyết, đã quá hạn",
		online: "Nộp trực tuyến", digitized: "Có thành phần số hóa", fee_due: "Phải nộp phí, lệ phí",
		paid_online: "Thanh toán trực tuyến", unsynced: "Chưa đồng bộ đúng lên Cổng DVCQG", handled: "Đã giải quyết xong",
		steps_finished: "Có bước xử lý xong trong kỳ", steps_late: "Có bước xử lý trễ hạn",
		apologies: "Có thư xin lỗi trong kỳ", breaches: "Có vi phạm phát sinh trong kỳ",
	};
	// Counts of steps, letters and breaches: their dossiers are listed once
	// each, so a dossier with two of them makes the list shorter than the count.
	const PER_ITEM = { steps_finished: "bước", steps_late: "bước", apologies: "thư xin lỗi", breaches: "vi phạm" };
	const LEVEL_LABELS = { agency: "Cơ quan", department: "Phòng ban", official: "Cán bộ", procedure: "Thủ tục" };
	const OUTCOMES = { early: ["succeeded", "Trước hạn"], on_due: ["succeeded", "Đúng hạn"], late: ["failed", "Quá hạn"] };

	// hanoiMonth is this month in Hanoi moved by offset months, "YYYY-MM".
	function hanoiMonth(offset) {
		const p = {};
		const f = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit" });
		for (const { type, value } of f.formatToParts(new Date())) p[type] = value;
		const d = new Date(Date.UTC(Number(p.year), Number(p.month) - 1 + (offset || 0), 1));
		return d.getUTCFullYear() + "-" + String(d.getUTCMonth() + 1).padStart(2, "0");
	}

	// periodLabel is "tháng 11/2026" or "năm 2026".
	const periodLabel = (p) => (p.kind === "year" ? "năm " : "tháng ") + p.name;

	// reportHash is the report page of a period and agency.
	function reportHash(period, value, agency) {
		const p = new URLSearchParams();
		p.set(period, value);
		if (agency) p.set("agency", agency);
		return listHash("report", p);
	}

	// drill is a count linking to the dossiers behind it; ctx is the page's
	// period ({kind, value}) and agency.
	function drill(ctx, level, group, measure, n, kind) {
		if (typeof n !== "number") return "—";
		if (n === 0) return el("span", { class: "zero" }, "0");
		const p = new URLSearchParams();
		p.set(ctx.kind, ctx.value);
		p.set("agency", ctx.agency);
		p.set("level", level);
		if (level !== "agency") p.set("group", group);
		p.set("measure", measure);
		if (kind) p.set("kind", kind);
		p.set("n", String(n)); // the number clicked: the list says how it compares
		const what = kind ? (KIND_LABELS[kind] || kind) : MEASURE_LABELS[measure];
		return el("a", { href: listHash("report/dossiers", p), class: "drill", title: what + " — xem danh sách hồ sơ",
			dataset: { measure, level, group: level === "agency" ? ctx.agency : group, kind: kind || undefined } }, fmtNum(n));
	}

	function rateText(v, what) {
		if (v === null || v === undefined) return el("span", { class: "muted nodata", title: what ? what + ": không có hồ sơ để tính" : undefined }, "—");
		return el("span", { class: "rate" }, fmtPct(v));
	}

	// change says how a rate moved from prev to cur, in percentage points.
	function rateChange(cur, prev, higherIsBetter) {
		if (cur === null || cur === undefined || prev === null || prev === undefined) return el("span", { class: "muted" }, "—");
		const d = Math.round((cur - prev) * 1000) / 10;
		if (d === 0) return el("span", { class: "delta same" }, "không đổi");
		const good = (d > 0) === (higherIsBetter !== false);
		return el("span", { class: "delta " + (good ? "up" : "down"), title: "điểm phần trăm" },
			(d > 0 ? "▲ tăng " : "▼ giảm ") + pctFormat.format(Math.abs(d)) + " điểm");
	}

	function countChange(cur, prev) {
		const d = cur - prev;
		if (d === 0) return el("span", { class: "delta same" }, "không đổi");
		return el("span", { class: "delta" }, (d > 0 ? "+" : "−") + fmtNum(Math.abs(d)));
	}

	// headline is the agency's on-time rate against the period before, then
	// every indicator of both periods side by side.
	function headline(ctx, prevCtx, cur, prev) {
		const t = cur.total;
		const pt = prev.total;
		const on = t.rates.on_time;
		const pon = pt.rates.on_time;
		const counted = t.counts.finished + t.counts.open_at_end;
		const onTime = t.counts.finished_early + t.counts.finished_on_due + t.counts.open_within_due;
		let versus;
		if (on === null || pon === null) {
			versus = el("p", { class: "muted" }, periodLabel(prev.period) + ": " + (pon === null ? NO_DATA : fmtPct(pon)));
		} else {
			versus = el("p", { class: "versus" }, rateChange(on, pon), " so với " + periodLabel(prev.period) + " (" + fmtPct(pon) + ")");
		}
		const lead = el("div", { class: "card headline", dataset: { onTime: on === null ? "" : String(on) } },
			el("h2", null, "Tỷ lệ giải quyết đúng hạn · " + periodLabel(cur.period)),
			el("p", { class: "big" }, on === null ? NO_DATA : fmtPct(on)),
			versus,
			on === null ? null : el("p", { class: "hint" }, fmtNum(onTime) + " / " + fmtNum(counted) +
				" hồ sơ đúng hạn: giải quyết trước hoặc đúng hạn, và đang giải quyết còn trong hạn cuối kỳ, trên số đã giải quyết và đang giải quyết (không tính hồ sơ rút)."));

		const rows = [];
		const rate = (label, key, better) => rows.push(el("tr", { dataset: { indicator: key } },
			el("th", { scope: "row" }, label), td({ class: "num" }, rateText(t.rates[key], label)),
			td({ class: "num" }, rateText(pt.rates[key], label)), td({ class: "num" }, rateChange(t.rates[key], pt.rates[key], better))));
		const countRow = (measure, label) => rows.push(el("tr", { dataset: { indicator: measure } },
			el("th", { scope: "row" }, label || MEASURE_LABELS[measure]),
			td({ class: "num" }, drill(ctx, "agency", "", measure, t.counts[measure])),
			td({ class: "num" }, drill(prevCtx, "agency", "", measure, pt.counts[measure])),
			td({ class: "num" }, countChange(t.counts[measure], pt.counts[measure]))));
		rate("Tỷ lệ giải quyết đúng hạn", "on_time");
		countRow("received");
		countRow("carried_over");
		countRow("finished_early");
		countRow("finished_on_due");
		countRow("finished_late");
		countRow("open_within_due", "Đang giải quyết cuối kỳ, còn trong hạn");
		countRow("open_overdue", "Đang giải quyết cuối kỳ, đã quá hạn");
		countRow("withdrawn");
		rate("Tỷ lệ bước xử lý đúng hạn", "steps_on_time");
		const days = (v) => v === null || v === undefined ? el("span", { class: "muted" }, "—") : daysFormat.format(v) + " ngày";
		rows.push(el("tr", { dataset: { indicator: "average_days" } }, el("th", { scope: "row" }, "Thời gian giải quyết trung bình (ngày làm việc)"),
			td({ class: "num" }, days(t.average_days)), td({ class: "num" }, days(pt.average_days)),
			td({ class: "num" }, t.average_days === null || pt.average_days === null ? "—" :
				countChangeDays(t.average_days, pt.average_days))));
		rate("Tỷ lệ nộp trực tuyến", "online");
		rate("Tỷ lệ số hóa hồ sơ", "digitized");
		rate("Tỷ lệ thanh toán trực tuyến", "online_payment");
		rate("Tỷ lệ đồng bộ lên Cổng DVCQG", "synced");
		countRow("apologies", "Thư xin lỗi");
		countRow("breaches", "Vi phạm phát sinh");
		const compare = el("div", { class: "table-wrap compare-wrap" }, el("table", { class: "compare" },
			el("thead", null, el("tr", null, el("th", { scope: "col" }, "Chỉ số"),
				el("th", { scope: "col", class: "num" }, periodLabel(cur.period)),
				el("th", { scope: "col", class: "num" }, periodLabel(prev.period)),
				el("th", { scope: "col", class: "num" }, "Thay đổi"))),
			el("tbody", null, rows)));
		return el("div", { class: "report-head" }, lead, compare);
	}

	function countChangeDays(cur, prev) {
		const d = Math.round((cur - prev) * 10) / 10;
		if (d === 0) return el("span", { class: "delta same" }, "không đổi");
		// Fewer days is better.
		return el("span", { class: "delta " + (d < 0 ? "up" : "down") }, (d > 0 ? "▲ tăng " : "▼ giảm ") + daysFormat.format(Math.abs(d)) + " ngày");
	}

	// trendChart draws the on-time rate per month: a line per series (the
	// agency's thicker), 0–100 %, a legend below with the last month's value.
	// With zoom the vertical axis starts below the lowest value rather than
	// at 0 %: rates of 90 % and more, as most are, then tell apart; toggle
	// switches.
	function trendChart(trend, year, zoom, toggle) {
		const W = Math.max(320, Math.min(860, window.innerWidth - 64));
		const H = W < 500 ? 220 : 280;
		const L = 44, R = 14, T = 12, B = 28;
		const n = trend.months.length;
		const series = trend.series.filter((s) => s.level === "agency" || s.counted.some((c) => c > 0));
		const all = series.flatMap((s) => s.values).filter((v) => v !== null);
		let lo = 0;
		let step = 0.25;
		if (zoom && all.length > 0) {
			lo = Math.max(0, Math.floor((Math.min(...all) - 0.02) * 20) / 20);
			if (lo > 0.9) lo = 0.9;
			step = 1 - lo <= 0.2 ? 0.05 : 1 - lo <= 0.5 ? 0.1 : 0.25;
			lo = 1 - Math.ceil((1 - lo) / step - 1e-9) * step;
		}
		const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
		const y = (v) => T + ((1 - v) / (1 - lo)) * (H - T - B);
		const monthOf = (m) => "T" + Number(m.value.slice(5));
		const cls = (s, k) => (s.level === "agency" ? "agency" : s.unassigned ? "nobody" : "s" + ((k - 1) % 8));
		const parts = [];
		for (let v = 1; v >= lo - 1e-9; v -= step) {
			parts.push(svg("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
			parts.push(svg("text", { class: "ylabel", x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmtNum(Math.round(v * 1000) / 10) + "%"));
		}
		trend.months.forEach((m, i) => parts.push(svg("text", { class: "xlabel", x: x(i), y: H - B + 18, "text-anchor": "middle" }, monthOf(m))));
		const lines = [];
		series.forEach((s, k) => {
			let d = "";
			let pen = false;
			const dots = [];
			s.values.forEach((v, i) => {
				if (v === null) {
					pen = false;
					return;
				}
				d += (pen ? " L" : " M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
				pen = true;
				dots.push(svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: s.level === "agency" ? 4 : 3 },
					svg("title", null, s.name + " · " + trend.months[i].name + ": " + fmtPct(v) +
						" (" + fmtNum(s.on_time[i]) + "/" + fmtNum(s.counted[i]) + " hồ sơ)")));
			});
			lines.push(svg("g", { class: "series " + cls(s, k), "data-series": s.level + ":" + s.code },
				d ? svg("path", { d: d.trim() }) : null, dots));
		});
		parts.push(lines.slice(1), lines.slice(0, 1)); // the agency's line over the departments'

		const desc = series.map((s) => s.name + ": " + s.values.map((v, i) => monthOf(trend.months[i]) + " " +
			(v === null ? NO_DATA : fmtPct(v))).join(", ")).join("; ");
		const title = "Tỷ lệ giải quyết đúng hạn theo tháng, năm " + year;
		const chart = svg("svg", { class: "trend-chart", viewBox: "0 0 " + W + " " + H, role: "img", "data-from": String(lo),
			"aria-labelledby": "trend-title trend-desc", preserveAspectRatio: "xMidYMid meet" },
		svg("title", { id: "trend-title" }, title), svg("desc", { id: "trend-desc" }, desc), parts);
		const legend = el("ul", { class: "legend" }, series.map((s, k) => {
			const last = s.values[s.values.length - 1];
			return el("li", { dataset: { series: s.level + ":" + s.code } },
				el("span", { class: "swatch " + cls(s, k), "aria-hidden": "true" }),
				named({ code: s.code, name: s.name }), " ",
				el("span", { class: "muted" }, last === null ? "(" + NO_DATA + ")" : fmtPct(last)));
		}));
		const tool = toggle && all.length > 0 ? el("button", { type: "button", class: "secondary", "data-action": "zoom", "aria-pressed": String(!!zoom),
			onclick: toggle }, zoom ? "Trục dọc từ 0%" : "Phóng to trục dọc") : null;
		return el("figure", { class: "chart card" }, el("figcaption", { class: "toolbar" }, el("h2", null, title), el("span", { class: "spacer" }), tool),
			zoom && lo > 0 ? el("p", { class: "hint warn" }, "Trục dọc bắt đầu từ " + fmtNum(Math.round(lo * 1000) / 10) + "%, không phải 0%.") : null,
			chart, legend,
			el("p", { class: "hint" }, "Mỗi điểm là một tháng; không có điểm nghĩa là tháng đó không có hồ sơ để tính. Di chuột (hoặc chạm) vào một điểm để xem số hồ sơ."));
	}

	// redrawOnResize draws a chart for the window's width, and again when
	// the width changes while the chart is on the page.
	let chartResize = null;
	function redrawOnResize(draw) {
		if (chartResize) window.removeEventListener("resize", chartResize);
		let node = null;
		const redraw = () => {
			const next = draw(redraw);
			if (node) node.replaceWith(next);
			node = next;
		};
		redraw();
		let width = window.innerWidth;
		let timer = null;
		const onResize = () => {
			clearTimeout(timer);
			timer = setTimeout(() => {
				if (!node.isConnected) {
					window.removeEventListener("resize", onResize);
					if (chartResize === onResize) chartResize = null;
					return;
				}
				if (window.innerWidth === width) return;
				width = window.innerWidth;
				redraw();
			}, 100);
		};
		chartResize = onResize;
		window.addEventListener("resize", onResize);
		return node;
	}

	// groupTable is one row per department or official: the counts (links
	// to their dossiers), the on-time rates; the agency's totals last.
	function groupTable(ctx, level, res) {
		const steps = level !== "procedure"; // a procedure's steps are its departments'; its time is what counts
		const head1 = el("tr", null,
			el("th", { scope: "col", rowspan: 2 }, LEVEL_LABELS[level]),
			el("th", { scope: "col", rowspan: 2, class: "num" }, "Tiếp nhận"),
			el("th", { scope: "col", rowspan: 2, class: "num" }, "Kỳ trước chuyển sang"),
			el("th", { scope: "colgroup", colspan: 3, class: "group" }, "Đã giải quyết"),
			el("th", { scope: "colgroup", colspan: 2, class: "group" }, "Đang giải quyết cuối kỳ"),
			el("th", { scope: "col", rowspan: 2, class: "num" }, "Tỷ lệ đúng hạn"),
			steps ? el("th", { scope: "colgroup", colspan: 3, class: "group" }, "Bước xử lý")
				: [el("th", { scope: "colgroup", colspan: 2, class: "group" }, "Thời gian giải quyết"),
					el("th", { scope: "col", rowspan: 2, class: "num" }, "Tỷ lệ nộp trực tuyến")],
			el("th", { scope: "col", rowspan: 2, class: "num" }, "Vi phạm"));
		const head2 = el("tr", null,
			["Trước hạn", "Đúng hạn", "Quá hạn", "Trong hạn", "Quá hạn"]
				.concat(steps ? ["Đã xong", "Trễ hạn", "Tỷ lệ đúng hạn"] : ["Hồ sơ đã xong", "Trung bình (ngày làm việc)"])
				.map((h) => el("th", { scope: "col", class: "num" }, h)));
		const line = (r, lv, total) => {
			const c = r.counts;
			const cell = (measure, label) => td({ class: "num", "data-label": label }, drill(ctx, lv, r.code, measure, c[measure]));
			return el("tr", { class: total ? "total" : undefined, dataset: { group: r.code, level: lv } },
				el("th", { scope: "row", class: "name" }, r.unassigned
					? el("span", { title: "Hồ sơ chưa có bước xử lý ghi phòng ban, cán bộ" }, r.name)
					: lv === "official" ? person({ id: r.code, name: r.name }) : named({ code: r.code, name: r.name })),
				cell("received", "Tiếp nhận"), cell("carried_over", "Kỳ trước chuyển sang"),
				cell("finished_early", "Giải quyết trước hạn"), cell("finished_on_due", "Giải quyết đúng hạn"),
				cell("finished_late", "Giải quyết quá hạn"), cell("open_within_due", "Đang giải quyết trong hạn"),
				cell("open_overdue", "Đang giải quyết quá hạn"),
				td({ class: "num on-time", "data-label": "Tỷ lệ đúng hạn" }, rateText(r.rates.on_time, "Tỷ lệ đúng hạn")),
				steps ? [cell("steps_finished", "Bước đã xong"), cell("steps_late", "Bước trễ hạn"),
					td({ class: "num", "data-label": "Tỷ lệ bước đúng hạn" }, rateText(r.rates.steps_on_time, "Tỷ lệ bước đúng hạn"))]
					: [cell("handled", "Hồ sơ đã giải quyết xong"),
						td({ class: "num", "data-label": "Thời gian giải quyết trung bình" }, r.average_days === null
							? el("span", { class: "muted" }, "—") : daysFormat.format(r.average_days) + " ngày"),
						td({ class: "num", "data-label": "Tỷ lệ nộp trực tuyến" }, rateText(r.rates.online, "Tỷ lệ nộp trực tuyến"))],
				cell("breaches", "Vi phạm"));
		};
		const rows = [...res.rows].sort((a, b) => (a.unassigned - b.unassigned) || a.name.localeCompare(b.name, "vi"))
			.map((r) => line(r, level, false));
		const foot = el("tfoot", null, line(Object.assign({}, res.total, { name: "Cả cơ quan · " + res.total.name }), "agency", true));
		const body = el("tbody");
		fillBody(body, 13, rows, "Không có hồ sơ nào trong kỳ");
		return el("div", { class: "table-wrap" }, el("table", { class: "stack report-table", dataset: { level } },
			el("thead", null, head1, head2), body, foot));
	}

	// periodForm picks the month (or year) and the agency.
	function periodForm(rep, kind, value) {
		const agencies = rep.agencies || [];
		const input = kind === "year"
			? el("input", { type: "number", name: "year", min: "2000", max: "2100", value, required: true, "aria-label": "Năm" })
			: el("input", { type: "month", name: "month", value, required: true, "aria-label": "Tháng" });
		const pick = agencies.length > 1 ? el("select", { name: "agency", "aria-label": "Cơ quan" },
			agencies.map((a) => el("option", { value: a.code, selected: a.code === rep.agency.code }, a.name))) : null;
		const form = el("form", { class: "period-form", onsubmit: (ev) => {
			ev.preventDefault();
			if (!input.value) return;
			go(reportHash(kind, input.value, pick ? pick.value : rep.agency.code));
		} },
		labelled(kind === "year" ? "Năm" : "Tháng", input), pick ? labelled("Cơ quan", pick) : null,
		el("button", { type: "submit" }, "Xem"));
		input.addEventListener("change", () => { if (input.value) form.requestSubmit(); });
		if (pick) pick.addEventListener("change", () => form.requestSubmit());
		return form;
	}

	function reportTabs(kind, month, year, agency) {
		return el("nav", { class: "tabs", "aria-label": "Kỳ báo cáo" },
			el("a", { href: reportHash("month", month, agency), class: kind === "month" ? "active" : undefined, dataset: { tab: "month" } }, "Tháng"),
			el("a", { href: reportHash("year", year, agency), class: kind === "year" ? "active" : undefined, dataset: { tab: "year" } },
				"Năm · đánh giá cán bộ"));
	}

	async function reportPage(r) {
		if (r.args[0] === "dossiers") return reportDossiers(r.query);
		const q = r.query;
		if (q.get("year")) return yearPage(q);
		const month = q.get("month") || hanoiMonth(-1);
		const agency = q.get("agency") ? "&agency=" + seg(q.get("agency")) : "";
		const m = /^(\d{4})-(\d{2})$/.exec(month);
		const [deps, offs, procs, trend] = await Promise.all([
			api("GET", "/report?month=" + seg(month) + agency + "&level=department"),
			api("GET", "/report?month=" + seg(month) + agency + "&level=official"),
			api("GET", "/report?month=" + seg(month) + agency + "&level=procedure"),
			m ? api("GET", "/report/trend?year=" + m[1] + "&month=" + Number(m[2]) + agency) : null,
		]);
		const code = deps.agency.code;
		let zoom = false;
		const ctx = { kind: "month", value: deps.current.period.value, agency: code };
		const prevCtx = { kind: "month", value: deps.previous.period.value, agency: code };
		const xlsx = "/api/v1/report.xlsx?month=" + seg(ctx.value) + "&agency=" + seg(code);
		const current = ctx.value === hanoiMonth(0);
		return el("div", { class: "report", dataset: { month: ctx.value, agency: code } },
			heading("Kết quả giải quyết hồ sơ · " + deps.agency.name,
				el("a", { href: xlsx, class: "button secondary", download: "", "data-action": "download" }, "Tải bảng tính Excel")),
			reportTabs("month", ctx.value, ctx.value.slice(0, 4), code),
			periodForm(deps, "month", ctx.value),
			current ? el("p", { class: "hint warn" }, "Tháng " + deps.current.period.name +
				" chưa kết thúc: số liệu tính đến lần kiểm tra gần nhất, hồ sơ đang giải quyết được tính theo hạn của chúng cuối tháng.") : null,
			el("p", { class: "hint" }, "Bấm vào một con số để xem danh sách hồ sơ tạo nên con số đó. Hạn là ngày hẹn trả ghi trên phiếu, so theo ngày; thời gian theo " + ZONE_LABEL + "."),
			headline(ctx, prevCtx, deps.current, deps.previous),
			trend ? redrawOnResize((redraw) => trendChart(trend, m[1], zoom, () => {
				zoom = !zoom;
				redraw();
			})) : null,
			el("h2", null, "Theo phòng ban · " + periodLabel(deps.current.period)),
			groupTable(ctx, "department", deps.current),
			el("h2", null, "Theo cán bộ · " + periodLabel(offs.current.period)),
			el("p", { class: "hint" }, "Hồ sơ tính cho cán bộ xử lý bước giữ hồ sơ lâu nhất; bước xử lý tính cho cán bộ của từng bước."),
			groupTable(ctx, "official", offs.current),
			el("details", { class: "procedures" },
				el("summary", null, el("h2", null, "Theo thủ tục · " + periodLabel(procs.current.period))),
				el("p", { class: "hint" }, "Thời gian giải quyết trung bình tính theo ngày làm việc, từ khi tiếp nhận đến khi giải quyết xong, trừ thời gian chờ bổ sung hồ sơ, nộp phí."),
				groupTable(ctx, "procedure", procs.current)));
	}

	// yearPage is the officials' yearly evaluation: the steps they handled
	// and how many on time, the breaches attributed to them by kind, how many
	// were acknowledged, and citizens' satisfaction (no data yet).
	async function yearPage(q) {
		const year = q.get("year");
		const agency = q.get("agency") ? "&agency=" + seg(q.get("agency")) : "";
		const rep = await api("GET", "/report?year=" + seg(year) + agency + "&level=official");
		const code = rep.agency.code;
		const ctx = { kind: "year", value: rep.current.period.value, agency: code };
		const rows = [...rep.current.rows, Object.assign({}, rep.current.total, { name: "Cả cơ quan · " + rep.current.total.name, total: true })]
			.map((r) => {
				const c = r.counts;
				const lv = r.total ? "agency" : "official";
				const kinds = Object.entries(r.breaches_by_kind || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
				const prevRow = r.total ? rep.previous.total : rep.previous.rows.find((p) => p.code === r.code);
				return el("tr", { class: r.total ? "total" : undefined, dataset: { group: r.total ? code : r.code, level: lv } },
					el("th", { scope: "row", class: "name" }, r.unassigned ? r.name : r.total ? r.name : person({ id: r.code, name: r.name })),
					td({ class: "num", "data-label": "Bước đã xử lý" }, drill(ctx, lv, r.code, "steps_finished", c.steps_finished)),
					td({ class: "num", "data-label": "Bước đúng hạn" }, c.steps_finished ? fmtNum(c.steps_on_time) : "—"),
					td({ class: "num", "data-label": "Bước trễ hạn" }, drill(ctx, lv, r.code, "steps_late", c.steps_late)),
					td({ class: "num", "data-label": "Tỷ lệ bước đúng hạn" }, rateText(r.rates.steps_on_time, "Tỷ lệ bước đúng hạn"),
						prevRow && prevRow.rates.steps_on_time !== null && r.rates.steps_on_time !== null
							? [el("br"), el("span", { class: "muted small" }, "năm trước " + fmtPct(prevRow.rates.steps_on_time))] : null),
					td({ class: "num", "data-label": "Vi phạm" }, drill(ctx, lv, r.code, "breaches", c.breaches)),
					td({ class: "kinds", "data-label": "Theo loại" }, kinds.length === 0 ? el("span", { class: "muted" }, "—") :
						el("ul", { class: "kinds" }, kinds.map(([k, n]) => el("li", null, KIND_LABELS[k] || k, ": ", drill(ctx, lv, r.code, "breaches", n, k))))),
					td({ class: "num", "data-label": "Vi phạm đã được xác nhận" }, fmtNum(c.acknowledged)),
					td({ class: "satisfaction", "data-label": "Mức độ hài lòng", dataset: { satisfaction: r.rates.satisfaction === null ? "none" : String(r.rates.satisfaction) } },
						r.rates.satisfaction === null ? el("span", { class: "muted", title: "Chưa nhập đánh giá của người dân" }, NO_DATA) : fmtPct(r.rates.satisfaction)));
			});
		const cols = [["Cán bộ"], ["Bước đã xử lý", "num"], ["Bước đúng hạn", "num"], ["Bước trễ hạn", "num"], ["Tỷ lệ bước đúng hạn", "num"],
			["Vi phạm", "num"], ["Vi phạm theo loại"], ["Đã xác nhận", "num"], ["Mức độ hài lòng"]];
		return el("div", { class: "report", dataset: { year: ctx.value, agency: code } },
			heading("Đánh giá cán bộ năm " + ctx.value + " · " + rep.agency.name),
			reportTabs("year", hanoiMonth(-1).startsWith(ctx.value) ? hanoiMonth(-1) : ctx.value + "-12", ctx.value, code),
			periodForm(rep, "year", ctx.value),
			el("p", { class: "hint" }, "Các bước xử lý cán bộ đã làm xong trong năm và tỷ lệ bước xong đúng hạn; các vi phạm ghi cho cán bộ, theo loại, và số vi phạm cán bộ đã xác nhận. " +
				"Mức độ hài lòng của người dân sẽ có khi dvcwatch nhận được kết quả đánh giá; đến lúc đó là “" + NO_DATA + "”."),
			el("div", { class: "table-wrap" }, el("table", { class: "stack report-table year-table" },
				el("thead", null, el("tr", null, cols.map(([label, cls]) => el("th", { scope: "col", class: cls }, label)))),
				el("tbody", null, rows))));
	}

	// lateBy says how late a dossier was: finished late, by its end; still
	// open past its due, by the period's end (or now, in the current one).
	function lateBy(x, period) {
		if (!x.due_at) return null;
		const due = new Date(x.due_at);
		let until = null;
		if (x.ended_at) {
			if (x.outcome === "late" && new Date(x.ended_at) > due) until = x.ended_at;
		} else {
			const end = new Date(Math.min(Date.now(), new Date(period.to).getTime()));
			if (end > due) until = end.toISOString();
		}
		if (!until) return null;
		return [el("br"), el("span", { class: "late", title: x.ended_at ? "đến khi giải quyết xong" : "đến hết kỳ báo cáo" }, lateness(x.due_at, until))];
	}

	// reportDossiers lists the dossiers behind one number of the results.
	async function reportDossiers(q) {
		const p = new URLSearchParams();
		for (const k of ["month", "year", "agency", "level", "group", "measure", "kind", "limit"]) if (q.has(k)) p.set(k, q.get(k));
		const d = await api("GET", "/report/dossiers?" + p.toString());
		const clicked = q.get("n") !== null ? Number(q.get("n")) : null;
		const what = (MEASURE_LABELS[d.measure] || d.measure) + (d.kind ? ": " + (KIND_LABELS[d.kind] || d.kind) : "");
		const back = reportHash(d.period.kind, d.period.value, d.agency.code);
		const item = PER_ITEM[d.measure];
		const rows = d.items.map((x) => {
			const outcome = OUTCOMES[x.outcome];
			return el("tr", { dataset: { dossier: x.code, source: x.source } },
				td({ class: "c-dossier", "data-label": "Hồ sơ" }, el("a", { href: dossierHref(x.source, x.code), class: "dossier-link" }, el("code", null, x.code)),
					el("br"), el("span", { class: "muted" }, x.source)),
				td({ "data-label": "Thủ tục" }, x.procedure && x.procedure.code ? named(x.procedure) : "—"),
				td({ "data-label": "Phòng ban · cán bộ" }, named(x.department), el("br"), el("span", { class: "muted" }, person(x.official))),
				td({ "data-label": "Tiếp nhận" }, time(x.received_at)),
				td({ "data-label": "Hẹn trả", class: "c-due" }, time(x.due_at), lateBy(x, d.period)),
				td({ "data-label": "Kết thúc" }, x.ended_at ? time(x.ended_at) : el("span", { class: "muted" }, "đang giải quyết")),
				td({ "data-label": "Tình trạng" }, x.status && x.status.label ? x.status.label : "—",
					outcome ? [" ", badge(outcome[0], outcome[1])] : null));
		});
		return el("div", { class: "list-view report-dossiers", dataset: { measure: d.measure, total: String(d.total) } },
			el("p", null, el("a", { href: back, "data-action": "back" }, "← Kết quả " + periodLabel(d.period))),
			heading("Hồ sơ · " + what),
			el("p", { class: "lead" }, LEVEL_LABELS[d.level] + ": ", el("strong", null, d.group.name), " · " + periodLabel(d.period) +
				(d.level === "agency" ? "" : " · " + d.agency.name)),
			el("p", { class: "pager" }, el("strong", { class: "total", title: String(d.total) }, fmtNum(d.total)), " hồ sơ",
				d.items.length < d.total ? [" · hiển thị " + fmtNum(d.items.length) + " hồ sơ đầu · ",
					d.limit < 1000 ? el("a", { href: listHash("report/dossiers", (() => { const n = new URLSearchParams(q); n.set("limit", "1000"); return n; })()) }, "xem đến 1.000 hồ sơ") : null] : null),
			item && clicked !== null && clicked !== d.total ? el("p", { class: "hint" }, "Con số " + fmtNum(clicked) + " đếm từng " + item +
				"; chúng thuộc " + fmtNum(d.total) + " hồ sơ dưới đây (một hồ sơ có thể có nhiều " + item + ").") : null,
			el("p", { class: "hint zone" }, "Thời gian theo " + ZONE_LABEL + ". Bấm mã hồ sơ để xem chi tiết."),
			table([["Hồ sơ", "c-dossier"], ["Thủ tục"], ["Phòng ban · cán bộ"], ["Tiếp nhận"], ["Hẹn trả"], ["Kết thúc"], ["Tình trạng"]],
				rows, "Không có hồ sơ nào", "stack report-list"));
	}

	// ---- the search in the top bar ----

	function searchDossier(ev) {
		ev.preventDefault();
		const code = $("search-code").value.trim();
		if (!code) return;
		const next = "#/dossiers?code=" + seg(code);
		if (location.hash === next) rerender();
		else location.hash = next;
	}

	const views = { dashboard, report: reportPage, emails, jobs, schedules, breaches, silences, dossiers };

	// ---- start --------------------------------------------------------------

	async function start() {
		$("login-form").addEventListener("submit", login);
		$("logout").addEventListener("click", logout);
		$("msg-close").addEventListener("click", clearMsg);
		$("search").addEventListener("submit", searchDossier);
		window.addEventListener("hashchange", () => {
			clearMsg();
			route();
		});
		try {
			state.me = await api("GET", "/whoami");
		} catch (err) {
			if (err.status !== 401) {
				showLogin("");
				showMsg(err.message, "error");
			}
			return;
		}
		showApp();
		await route();
	}

	start();
})();
