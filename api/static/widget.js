/*
 * RAG chat widget: one self-contained script, no build step, no external resources.
 *
 * Embed with:
 *   <script src="http://HOST/widget.js" data-api="http://HOST" defer></script>
 *
 * Options (data- attributes on the script tag):
 *   data-api       base URL of the API (default: the origin this script was loaded from)
 *   data-title     panel title                         data-welcome   first message shown
 *   data-color     theme colour (any CSS colour)       data-position  "right" (default) | "left"
 *   data-api-key   sent as "Authorization: Bearer …"   data-open      "true" opens the panel on load
 *   data-suggestions  example questions under the welcome message, separated by "|"
 *
 * Global API: window.RagWidget.open() / .close() / .toggle() / .ask(text) / .clear()
 *
 * Safety: every string that comes from the network is put into the page with textContent or
 * text nodes (createElement / append), never through innerHTML.
 *
 * Parts, in this order: constants and texts (LIMITS: written by the server from its settings);
 * configuration; DOM and formatting helpers; SSE over fetch(); network (createClient: every
 * request); article view (locating and marking the cited passage); styles; the widget
 * (createWidget: its state, the rendering of messages, the turn loop, the article pane).
 */
(function () {
  "use strict";

  if (window.RagWidget && window.RagWidget.version) return; // included twice: keep the first

  // document.currentScript is only set while this file runs synchronously, so read it now.
  var SCRIPT =
    document.currentScript ||
    (function () {
      var all = document.querySelectorAll('script[src*="widget.js"]');
      return all.length ? all[all.length - 1] : null;
    })();

  var VERSION = "1.0.0";
  // The server's limits, written into this file by the server that serves it (api/routes/widget.py
  // replaces the JSON between the markers from its settings); the values here are its defaults.
  var LIMITS = /*server-limits*/{"max_question_chars": 2000, "max_history_messages": 20}/*end-server-limits*/;
  var MAX_QUESTION_CHARS = LIMITS.max_question_chars;
  var MAX_MESSAGES = LIMITS.max_history_messages; // history + the new question

  var TEXT = {
    title: "问答助手",
    subtitle: "回答均附原文出处",
    welcome: "你好！我可以回答关于文章资料的问题，每个回答都会标注出处，点击编号即可查看原文。",
    open: "打开问答助手",
    close: "关闭问答助手",
    closePanel: "关闭",
    clear: "清空对话",
    send: "发送",
    stop: "停止生成",
    input: "输入你的问题",
    placeholder: "输入你的问题…",
    keyHint: "按 Enter 发送，Shift+Enter 换行。",
    log: "对话记录",
    you: "你：",
    bot: "助手：",
    thinking: "正在检索资料并生成回答…",
    done: "回答完成。",
    sources: "来源",
    citeLabel: function (n, title) {
      return "出处 " + n + "：" + title;
    },
    retrievalBadge: "仅检索",
    retrievalNote: "离线检索模式：以下内容直接摘自原文。",
    degradedNote: "大模型暂时不可用，已切换为离线检索模式：以下内容直接摘自原文。",
    // The model answered, but nothing it wrote is supported by the passages (or it said it found nothing).
    uncheckedNote: "大模型的回答未能在原文中核实，已略去：以下内容直接摘自原文。",
    // The model's summary ran past its length (cut, it would end mid-word).
    tooLongNote: "大模型的概括过长，已略去：以下内容直接摘自原文。",
    ungrounded: "未找到可核实的出处，请谨慎参考。",
    stopped: "已停止生成。",
    retry: "重试",
    netError: "无法连接到问答服务，请检查网络后重试。",
    cutOff: "连接意外中断，回答不完整。",
    streamError: "生成回答时出错。",
    httpError: function (status) {
      return "服务暂时不可用（HTTP " + status + "），请稍后重试。";
    },
    cleared: "对话已清空。",
    suggestions: "示例问题",
    back: "返回对话",
    loadingArticle: "正在加载原文…",
    articleError: "原文加载失败：",
    openedArticle: function (title) {
      return "已打开原文《" + title + "》，引用段落已高亮。";
    },
    highlightHint: "高亮部分为回答引用的段落",
    original: "查看原文",
    footer: "回答基于文章内容生成，可能有误，请以原文为准。",
    loading: "正在加载…服务刚刚启动，索引加载完成后会自动回答。",
    feedbackAsk: "这个回答有帮助吗？",
    feedbackUp: "有帮助",
    feedbackDown: "没有帮助",
    feedbackThanks: "感谢反馈！",
    feedbackComment: "哪里不好？（可选，最多 500 字）",
    feedbackSend: "提交",
    feedbackSent: "已收到你的意见，谢谢！",
    feedbackError: "反馈发送失败，请稍后再试。",
  };
  // While the server is still loading its index (503 not_ready), a question waits this long at most.
  var READY_WAIT_MS = 120000;

  // ---------------------------------------------------------------- configuration
  function readConfig() {
    var ds = (SCRIPT && SCRIPT.dataset) || {};
    var origin = location.origin;
    if (SCRIPT && SCRIPT.src) {
      try {
        origin = new URL(SCRIPT.src, location.href).origin;
      } catch (e) {
        /* keep the page origin */
      }
    }
    return {
      api: (ds.api || origin).replace(/\/+$/, ""),
      title: ds.title || TEXT.title,
      welcome: ds.welcome || TEXT.welcome,
      color: ds.color || "",
      position: ds.position === "left" ? "left" : "right",
      apiKey: ds.apiKey || "",
      open: ds.open === "true",
      suggestions: (ds.suggestions || "")
        .split("|")
        .map(function (q) {
          return q.trim();
        })
        .filter(Boolean)
        .slice(0, 6),
    };
  }

  // ---------------------------------------------------------------- tiny DOM helpers
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v == null || v === false) return;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = v;
        else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c != null && c !== false) el.append(c); // strings become text nodes
    }
    return el;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: ["M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"],
    close: ["M18 6 6 18", "M6 6l12 12"],
    down: ["M6 9l6 6 6-6"],
    send: ["M12 19V5", "M5 12l7-7 7 7"],
    stop: ["M7 7h10v10H7z"],
    trash: ["M3 6h18", "M8 6V4h8v2", "M19 6l-1 14H6L5 6", "M10 11v6", "M14 11v6"],
    back: ["M15 18l-6-6 6-6"],
    external: ["M15 3h6v6", "M10 14 21 3", "M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6"],
    alert: ["M12 9v4", "M12 17h.01", "M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"],
    retry: ["M3 12a9 9 0 1 0 3-6.7L3 8", "M3 3v5h5"],
  };

  function icon(name, filled) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon");
    svg.setAttribute("fill", filled ? "currentColor" : "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    ICONS[name].forEach(function (d) {
      var p = document.createElementNS(SVG_NS, "path");
      p.setAttribute("d", d);
      svg.appendChild(p);
    });
    return svg;
  }

  // ---------------------------------------------------------------- formatting helpers
  function formatDate(value) {
    if (!value) return "";
    var iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
    if (iso) return +iso[1] + "年" + +iso[2] + "月" + +iso[3] + "日";
    var t = Date.parse(value);
    if (isNaN(t)) return String(value);
    var d = new Date(t);
    return d.getUTCFullYear() + "年" + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日";
  }

  function metaLine(author, date) {
    return [author, formatDate(date)].filter(Boolean).join(" · ");
  }

  function safeHttpUrl(value) {
    // Only http(s) links are shown: a javascript: URL from a document must never become a link.
    if (!value) return null;
    try {
      var u = new URL(value);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  // The API counts offsets in Unicode code points (Python str); JS strings count UTF-16 units.
  function codePointToUnitOffset(text, cp) {
    if (!/[\uD800-\uDFFF]/.test(text)) return cp;
    var units = 0;
    var i = 0;
    for (var ch of text) {
      if (i >= cp) break;
      units += ch.length;
      i++;
    }
    return units;
  }

  // Colour of text on the accent: dark on light accents, white otherwise.
  function onAccentColor(color) {
    var probe = h("span", { style: "display:none" });
    probe.style.color = color;
    document.body.appendChild(probe);
    var rgb = getComputedStyle(probe).color;
    probe.remove();
    var m = /rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/.exec(rgb);
    if (!m) return "#ffffff";
    var lin = [m[1], m[2], m[3]].map(function (v) {
      v = v / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    return lum > 0.45 ? "#111827" : "#ffffff";
  }

  // ---------------------------------------------------------------- SSE over fetch()
  function parseSseBlock(block) {
    var event = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return; // comments carry keep-alive pings
      var i = line.indexOf(":");
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    });
    return data.length ? { event: event, data: data.join("\n") } : null;
  }

  async function* sseEvents(body) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buf = "";
    try {
      for (;;) {
        var chunk = await reader.read();
        buf += chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
        // A CR at the end of a read may be the first half of CRLF: keep it for the next read.
        var hold = "";
        if (!chunk.done && buf.slice(-1) === "\r") {
          hold = "\r";
          buf = buf.slice(0, -1);
        }
        buf = buf.replace(/\r\n?/g, "\n");
        var cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          var ev = parseSseBlock(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
          if (ev) yield ev;
        }
        buf += hold;
        if (chunk.done) {
          var last = buf.trim() ? parseSseBlock(buf) : null;
          if (last) yield last;
          return;
        }
      }
    } finally {
      reader.cancel().catch(function () {});
    }
  }

  function ApiError(message) {
    this.message = message;
  }

  // True for the server's "still loading the index" answer, which goes away by itself.
  async function isNotReady(res) {
    if (res.status !== 503) return false;
    try {
      var body = await res.clone().json();
      return !!(body && body.error && body.error.code === "not_ready");
    } catch (e) {
      return false;
    }
  }

  function sleep(ms, signal) {
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, ms);
      if (signal) signal.addEventListener("abort", function () { clearTimeout(timer); resolve(); });
    });
  }

  async function errorFromResponse(res) {
    try {
      var body = await res.json();
      if (body && body.error && body.error.message) return new ApiError(String(body.error.message));
    } catch (e) {
      /* not JSON */
    }
    return new ApiError(TEXT.httpError(res.status));
  }

  // ---------------------------------------------------------------- network: the API client
  // Every request the widget makes; a network failure becomes ApiError(TEXT.netError), an abort stays one.
  function createClient(config) {
    function headers(json, jsonBody) {
      var hd = { Accept: json ? "application/json" : "text/event-stream" };
      if (!json || jsonBody) hd["Content-Type"] = "application/json";
      if (config.apiKey) hd.Authorization = "Bearer " + config.apiKey;
      return hd;
    }

    async function send(path, init, signal) {
      try {
        return await fetch(config.api + path, Object.assign({ signal: signal }, init));
      } catch (e) {
        if (signal && signal.aborted) throw e;
        throw new ApiError(TEXT.netError);
      }
    }

    // One streamed chat turn (POST /api/chat). progress.text and progress.citations follow the
    // stream (the caller reads them after an error or a stop too), onUpdate() after each delta,
    // onWaiting() while the server is still loading its index. Resolves with the answer.
    async function chat(convo, signal, progress, onUpdate, onWaiting) {
      var res;
      var waitUntil = Date.now() + READY_WAIT_MS;
      for (;;) {
        res = await send("/api/chat", {
          method: "POST",
          headers: headers(false),
          body: JSON.stringify({ messages: convo, stream: true }),
        }, signal);
        // The server has just started and is loading its index: say so and ask again shortly.
        if (Date.now() < waitUntil && (await isNotReady(res))) {
          onWaiting();
          await sleep(1000, signal);
          if (signal.aborted) throw new Error("aborted");
          continue;
        }
        break;
      }
      if (!res.ok) throw await errorFromResponse(res);
      var result = null;
      var ctype = res.headers.get("content-type") || "";
      if (ctype.indexOf("application/json") >= 0) {
        result = await res.json(); // a server that ignores stream:true still answers
      } else {
        var events = sseEvents(res.body);
        for (;;) {
          var step;
          try {
            step = await events.next();
          } catch (e) {
            if (signal.aborted) throw e;
            throw new ApiError(TEXT.cutOff); // the connection broke after the answer began
          }
          if (step.done) break;
          var ev = step.value;
          var data;
          try {
            data = JSON.parse(ev.data);
          } catch (e) {
            continue;
          }
          if (ev.event === "citations") {
            progress.citations = data.citations || [];
          } else if (ev.event === "delta") {
            if (data.restart) progress.text = "";
            progress.text += data.text || "";
            onUpdate();
          } else if (ev.event === "done") {
            result = data;
          } else if (ev.event === "error") {
            throw new ApiError((data.error && data.error.message) || TEXT.streamError);
          }
        }
      }
      if (!result) throw new ApiError(TEXT.cutOff);
      return result;
    }

    // GET /api/articles/{id}: the article's text and metadata.
    async function article(id, signal) {
      var res = await send("/api/articles/" + encodeURIComponent(id), { headers: headers(true) }, signal);
      if (!res.ok) throw await errorFromResponse(res);
      return res.json();
    }

    // POST /api/feedback: 👍/👎 (and a comment) on an answer; rejects on any failure.
    function feedback(id, rating, comment) {
      var body = { feedback_id: id, rating: rating };
      if (comment) body.comment = comment;
      return fetch(config.api + "/api/feedback", {
        method: "POST", headers: headers(true, true), body: JSON.stringify(body),
      }).then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
      });
    }

    return { chat: chat, article: article, feedback: feedback };
  }

  // ---------------------------------------------------------------- article view: the cited passage
  // Where the cited passage is in the article's text (UTF-16 offsets; -1 when it is not there):
  // the offsets when they match the passage, else a search for it.
  function locatePassage(text, citation) {
    var start = codePointToUnitOffset(text, Number(citation.start) || 0);
    var end = codePointToUnitOffset(text, Number(citation.end) || 0);
    var passage = citation.passage || "";
    if (!(end > start && end <= text.length) || (passage && text.slice(start, end) !== passage)) {
      var found = passage ? text.indexOf(passage) : -1;
      if (found >= 0) {
        start = found;
        end = found + passage.length;
      } else if (!(end > start && end <= text.length)) {
        start = end = -1;
      }
    }
    return { start: start, end: end };
  }

  // One paragraph per line; a passage spanning lines gets one <mark> per line.
  function articleParagraphs(text, start, end) {
    var body = h("div", { class: "atext" });
    var marks = [];
    var pos = 0;
    text.split("\n").forEach(function (line) {
      var lineStart = pos;
      var lineEnd = pos + line.length;
      pos = lineEnd + 1;
      if (!line.trim()) return;
      var para = h("p");
      if (start >= 0 && start < lineEnd && end > lineStart) {
        var a = Math.max(start, lineStart) - lineStart;
        var b = Math.min(end, lineEnd) - lineStart;
        var mark = h("mark", { text: line.slice(a, b) });
        para.append(line.slice(0, a), mark, line.slice(b));
        marks.push(mark);
      } else {
        para.append(line);
      }
      body.append(para);
    });
    return { body: body, marks: marks };
  }

  // ---------------------------------------------------------------- styles
  var STYLES = [
    ":host{all:initial;direction:ltr;unicode-bidi:isolate}",
    "*,*::before,*::after{box-sizing:border-box}",
    ".root{--accent:#4f46e5;--on-accent:#fff;--accent-soft:#eef2ff;--accent-strong:#4338ca;",
    "--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bubble:#f3f4f6;--danger:#b91c1c;",
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Hiragino Sans GB','Microsoft YaHei',",
    "'Noto Sans CJK SC','WenQuanYi Micro Hei',Roboto,'Helvetica Neue',Arial,sans-serif;",
    "font-size:14px;line-height:1.6;color:var(--text);-webkit-font-smoothing:antialiased;text-align:left}",
    "@supports (color:color-mix(in srgb,red,blue)){.root{",
    "--accent-soft:color-mix(in srgb,var(--accent) 12%,#fff);",
    "--accent-strong:color-mix(in srgb,var(--accent) 78%,#000)}}",
    "button{font:inherit;color:inherit;cursor:pointer}",
    ":focus-visible{outline:2px solid var(--accent);outline-offset:2px}",
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    ".icon{width:20px;height:20px;flex:none;display:block}",
    // launcher
    ".launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;",
    "border:0;background:var(--accent);color:var(--on-accent);display:flex;align-items:center;justify-content:center;",
    "box-shadow:0 6px 20px rgba(15,23,42,.24),0 2px 6px rgba(15,23,42,.12);transition:transform .18s ease,box-shadow .18s ease}",
    ".launcher:hover{transform:scale(1.06);box-shadow:0 10px 28px rgba(15,23,42,.28)}",
    ".launcher .icon{width:26px;height:26px}",
    ".pos-left .launcher{right:auto;left:20px}",
    // panel
    ".panel{position:fixed;bottom:88px;right:20px;z-index:2147483000;width:384px;max-width:calc(100vw - 40px);",
    "height:640px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border-radius:16px;",
    "overflow:hidden;box-shadow:0 16px 48px rgba(15,23,42,.22),0 2px 8px rgba(15,23,42,.08);",
    "transform-origin:bottom right;animation:rag-pop .18s ease-out}",
    ".panel[hidden]{display:none}",
    ".pos-left .panel{right:auto;left:20px;transform-origin:bottom left}",
    "@keyframes rag-pop{from{opacity:0;transform:translateY(12px) scale(.97)}to{opacity:1;transform:none}}",
    // header
    ".header{flex:none;display:flex;align-items:center;gap:12px;padding:14px 10px 14px 16px;color:var(--on-accent);",
    "background:var(--accent);background:linear-gradient(135deg,var(--accent),var(--accent-strong))}",
    ".avatar{flex:none;width:38px;height:38px;border-radius:50%;display:flex;align-items:center;justify-content:center;",
    "background:rgba(255,255,255,.2)}",
    ".heading{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:600;line-height:1.3;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".subtitle{margin:2px 0 0;font-size:12px;opacity:.85}",
    ".hbtn{flex:none;width:36px;height:36px;border:0;border-radius:10px;background:transparent;color:inherit;",
    "display:flex;align-items:center;justify-content:center}",
    ".hbtn:hover{background:rgba(255,255,255,.18)}",
    ".hbtn:focus-visible{outline-color:currentColor}",
    // body, views
    ".body{position:relative;flex:1;min-height:0;display:flex;flex-direction:column}",
    ".chat{flex:1;min-height:0;display:flex;flex-direction:column}",
    ".messages{flex:1;min-height:0;overflow-y:auto;overflow-x:hidden;padding:18px 16px 8px;display:flex;",
    "flex-direction:column;gap:14px;overscroll-behavior:contain;scroll-behavior:smooth}",
    ".messages:focus-visible{outline-offset:-2px}",
    ".msg{max-width:88%;padding:10px 14px;border-radius:16px;overflow-wrap:anywhere;word-break:break-word}",
    ".msg.user{align-self:flex-end;background:var(--accent);color:var(--on-accent);border-bottom-right-radius:4px;white-space:pre-wrap}",
    ".msg.bot{align-self:flex-start;background:var(--bubble);border-bottom-left-radius:4px}",
    ".msg.bot.wide{max-width:94%}",
    ".suggestions{display:flex;flex-direction:column;align-items:flex-start;gap:6px;margin-top:-4px}",
    ".chip{max-width:88%;text-align:left;padding:7px 12px;border-radius:12px;border:1px solid var(--accent-soft);",
    "background:#fff;color:var(--accent-strong);font-size:13px;line-height:1.45;box-shadow:0 1px 2px rgba(15,23,42,.06)}",
    ".chip:hover{border-color:var(--accent);background:var(--accent-soft)}",
    ".answer{white-space:pre-wrap}",
    ".answer.streaming::after{content:'';display:inline-block;width:7px;height:15px;margin-left:2px;vertical-align:-2px;",
    "background:var(--accent);border-radius:1px;animation:rag-blink 1s steps(2) infinite}",
    "@keyframes rag-blink{50%{opacity:0}}",
    ".msg.refused .answer{color:#374151}",
    ".cite{display:inline-flex;align-items:center;justify-content:center;min-width:20px;height:18px;padding:0 5px;margin:0 2px;",
    "border:0;border-radius:9px;background:var(--accent-soft);color:var(--accent-strong);font-size:11px;font-weight:600;",
    "line-height:1;vertical-align:2px}",
    ".cite:hover{background:var(--accent);color:var(--on-accent)}",
    ".typing{display:flex;gap:4px;padding:4px 0}",
    ".typing span{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:rag-dot 1.2s infinite ease-in-out}",
    ".typing span:nth-child(2){animation-delay:.15s}.typing span:nth-child(3){animation-delay:.3s}",
    "@keyframes rag-dot{0%,80%,100%{opacity:.3;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}",
    ".badges{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-bottom:6px;font-size:12px;color:var(--muted)}",
    ".badge{display:inline-block;padding:1px 8px;border-radius:999px;background:#fef3c7;color:#92400e;font-weight:600;font-size:11px;line-height:18px}",
    ".note{font-size:12px;color:var(--muted);margin-top:6px}",
    ".feedback{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:8px;font-size:12px;color:var(--muted)}",
    ".fbbtn{border:1px solid var(--line);background:#fff;border-radius:999px;padding:2px 10px;font-size:14px;line-height:22px}",
    ".fbbtn:hover{border-color:var(--accent)}",
    ".fbbtn[aria-pressed=true]{background:var(--accent-soft);border-color:var(--accent)}",
    ".fbform{display:flex;gap:6px;width:100%}",
    ".fbform input{flex:1;min-width:0;border:1px solid var(--line);border-radius:8px;padding:4px 8px;font:inherit;font-size:13px}",
    ".fbform button{border:0;border-radius:8px;background:var(--accent);color:var(--on-accent);padding:4px 12px;font-size:13px}",
    ".loading-note{font-size:12px;color:var(--muted);margin-top:4px}",
    ".sources{margin-top:10px;padding-top:8px;border-top:1px solid var(--line)}",
    ".sources-title{font-size:12px;font-weight:600;color:var(--muted);margin:0 0 4px}",
    ".sources ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:4px}",
    ".source{width:100%;display:flex;gap:8px;align-items:flex-start;text-align:left;padding:6px 8px;border:1px solid var(--line);",
    "border-radius:10px;background:#fff;transition:border-color .15s ease,background .15s ease}",
    ".source:hover{border-color:var(--accent);background:var(--accent-soft)}",
    ".source .num{flex:none;min-width:20px;height:20px;border-radius:6px;background:var(--accent-soft);color:var(--accent-strong);",
    "font-size:11px;font-weight:700;display:flex;align-items:center;justify-content:center;margin-top:1px}",
    ".source .st{display:block;font-size:13px;font-weight:600;line-height:1.4;color:var(--text);overflow:hidden;",
    "display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical}",
    ".source .sm{display:block;font-size:11.5px;color:var(--muted);margin-top:1px}",
    ".msg.error{background:#fef2f2;color:var(--danger);border:1px solid #fecaca}",
    ".error-row{display:flex;gap:8px;align-items:flex-start}",
    ".error-row .icon{width:18px;height:18px;margin-top:2px}",
    ".retry{margin-top:8px;display:inline-flex;align-items:center;gap:6px;padding:5px 12px;border-radius:999px;",
    "border:1px solid currentColor;background:#fff;color:var(--danger);font-size:13px;font-weight:600}",
    ".retry .icon{width:15px;height:15px}",
    ".retry:hover{background:#fee2e2}",
    // composer
    ".composer{flex:none;padding:10px 12px 8px;border-top:1px solid var(--line);background:#fff}",
    ".field{display:flex;align-items:flex-end;gap:8px;padding:6px 6px 6px 12px;border:1px solid var(--line);border-radius:14px;",
    "background:#fff;transition:border-color .15s ease,box-shadow .15s ease}",
    ".field:focus-within{border-color:var(--accent);box-shadow:0 0 0 3px var(--accent-soft)}",
    "textarea{flex:1;min-width:0;border:0;outline:0;resize:none;background:transparent;font:inherit;font-size:15px;",
    "line-height:1.5;color:var(--text);padding:6px 0;max-height:120px;height:36px}",
    "textarea::placeholder{color:#9ca3af}",
    "textarea:focus-visible{outline:0}", // the surrounding field shows the focus ring
    ".sendbtn{flex:none;width:36px;height:36px;border:0;border-radius:10px;background:var(--accent);color:var(--on-accent);",
    "display:flex;align-items:center;justify-content:center;transition:opacity .15s ease}",
    ".sendbtn:disabled{opacity:.4;cursor:default}",
    ".sendbtn.stop{background:#111827;color:#fff}",
    ".sendbtn.stop .icon{width:16px;height:16px}",
    ".footer{margin:6px 2px 0;font-size:11px;color:#9ca3af;text-align:center}",
    // article view
    ".article{position:absolute;inset:0;display:flex;flex-direction:column;background:#fff}",
    ".article[hidden]{display:none}",
    ".abar{flex:none;display:flex;align-items:center;gap:6px;padding:6px 12px 6px 8px;border-bottom:1px solid var(--line)}",
    ".abar-title{flex:1;min-width:0;font-size:12px;color:var(--muted);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;text-align:right}",
    ".backbtn{flex:none;display:inline-flex;align-items:center;gap:4px;padding:6px 10px 6px 6px;border:0;border-radius:8px;",
    "background:transparent;color:var(--accent-strong);font-size:13px;font-weight:600}",
    ".backbtn:hover{background:var(--accent-soft)}",
    ".ascroll{position:relative;flex:1;min-height:0;overflow-y:auto;overflow-x:hidden;padding:16px 18px 28px;overscroll-behavior:contain}",
    ".atitle{margin:0 0 6px;font-size:17px;font-weight:700;line-height:1.45;overflow-wrap:anywhere}",
    ".atitle:focus{outline:0}",
    ".ameta{font-size:12px;color:var(--muted);display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}",
    ".ameta a{display:inline-flex;align-items:center;gap:3px;color:var(--accent-strong);text-decoration:none;font-weight:600}",
    ".ameta a .icon{width:13px;height:13px}",
    ".ameta a:hover{text-decoration:underline}",
    ".hint{margin:12px 0 14px;padding:6px 10px;border-radius:8px;background:#fffbeb;color:#92400e;font-size:12px}",
    ".atext{line-height:1.8;font-size:14.5px;overflow-wrap:anywhere}",
    ".atext p{margin:0 0 .85em;white-space:pre-wrap}",
    "mark{background:#fde68a;color:inherit;border-radius:3px;padding:1px 0;box-shadow:0 0 0 2px #fde68a}",
    ".status{color:var(--muted);padding:8px 0}",
    ".status.error{color:var(--danger)}",
    // phone: the panel takes the whole screen, the launcher hides behind it
    "@media (max-width:480px){",
    ".panel,.pos-left .panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}",
    ".is-open .launcher{display:none}",
    ".msg{max-width:92%}",
    "textarea{font-size:16px}", // 16px stops iOS from zooming into the field
    "}",
    "@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important;scroll-behavior:auto!important}}",
  ].join("\n");

  function attachStyles(shadow) {
    // A constructed sheet keeps working on hosts whose CSP forbids inline <style>.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      shadow.appendChild(h("style", { text: STYLES }));
    }
  }

  // ---------------------------------------------------------------- the widget
  function createWidget(config) {
    var api = createClient(config);
    var state = {
      open: false,
      busy: false,
      history: [], // completed turns: [{role, content}]
      controller: null,
      articleController: null,
      articles: new Map(), // article_id -> response JSON
      returnFocus: null,
      pendingRetry: null, // the last error bubble's retry, dropped when a new question is sent
    };

    // A custom element name: host-page rules for div or section never match the widget's host.
    var host = h("rag-chat-widget", { "data-version": VERSION });
    var shadow = host.attachShadow({ mode: "open" });
    attachStyles(shadow);

    var root = h("div", { class: "root pos-" + config.position });
    if (config.color && window.CSS && window.CSS.supports("color", config.color)) {
      root.style.setProperty("--accent", config.color);
      root.style.setProperty("--on-accent", onAccentColor(config.color));
    }

    // --- live region: one polite announcement per state change (not per streamed token)
    var live = h("div", { class: "sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    var announceTimer = 0;
    function announce(text) {
      live.textContent = "";
      clearTimeout(announceTimer);
      // Changing the text on a later tick makes screen readers repeat an identical message.
      announceTimer = setTimeout(function () {
        live.textContent = text;
      }, 60);
    }

    // --- launcher
    var launcherIcon = icon("chat");
    var launcher = h("button", {
      type: "button",
      class: "launcher",
      "aria-label": TEXT.open,
      "aria-expanded": "false",
      "aria-controls": "rag-panel",
      onclick: function () {
        toggle(true);
      },
    }, launcherIcon);

    // --- header
    var titleId = "rag-title";
    var clearBtn = h("button", { type: "button", class: "hbtn", "aria-label": TEXT.clear, title: TEXT.clear, onclick: function () {
      clear(true);
    } }, icon("trash"));
    var closeBtn = h("button", { type: "button", class: "hbtn", "aria-label": TEXT.closePanel, title: TEXT.closePanel, onclick: function () {
      close(true);
    } }, icon("close"));
    var header = h("div", { class: "header" },
      h("div", { class: "avatar", "aria-hidden": "true" }, icon("chat")),
      h("div", { class: "heading" },
        h("h2", { class: "title", id: titleId, text: config.title }),
        h("p", { class: "subtitle", text: TEXT.subtitle })),
      clearBtn,
      closeBtn);

    // --- chat view
    // Focusable so keyboard users can scroll a long conversation.
    var messages = h("div", { class: "messages", role: "region", "aria-label": TEXT.log, tabindex: "0" });
    var textarea = h("textarea", {
      rows: "1",
      maxlength: String(MAX_QUESTION_CHARS),
      "aria-label": TEXT.input,
      placeholder: TEXT.placeholder,
      "aria-describedby": "rag-keyhint",
      enterkeyhint: "send",
    });
    var sendBtn = h("button", { type: "button", class: "sendbtn", "aria-label": TEXT.send, title: TEXT.send, disabled: true }, icon("send"));
    var composer = h("div", { class: "composer" },
      h("div", { class: "field" }, textarea, sendBtn),
      h("span", { class: "sr-only", id: "rag-keyhint", text: TEXT.keyHint }),
      h("p", { class: "footer", text: TEXT.footer }));
    var chatView = h("div", { class: "chat" }, messages, composer);

    // --- article view
    var backBtn = h("button", { type: "button", class: "backbtn", onclick: function () {
      closeArticle();
    } }, icon("back"), TEXT.back);
    var articleScroll = h("div", { class: "ascroll" });
    // The title stays visible in the bar while the text is scrolled to the passage.
    var barTitle = h("span", { class: "abar-title", "aria-hidden": "true" });
    var articleView = h("div", { class: "article", hidden: true, role: "region", "aria-label": "原文" },
      h("div", { class: "abar" }, backBtn, barTitle), articleScroll);

    var panel = h("div", {
      class: "panel",
      id: "rag-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": titleId,
      hidden: true,
    }, header, h("div", { class: "body" }, chatView, articleView));

    // Escape steps back: article view -> chat -> closed.
    panel.addEventListener("keydown", function (e) {
      if (e.key !== "Escape" || e.isComposing) return;
      e.preventDefault();
      e.stopPropagation();
      if (!articleView.hidden) closeArticle();
      else close(true);
    });

    root.append(panel, launcher, live);
    shadow.appendChild(root);

    // --- composer behaviour
    function autoGrow() {
      textarea.style.height = "auto";
      textarea.style.height = Math.min(textarea.scrollHeight, 120) + "px";
    }
    function syncSendButton() {
      sendBtn.disabled = !state.busy && !textarea.value.trim();
    }
    textarea.addEventListener("input", function () {
      autoGrow();
      syncSendButton();
    });
    textarea.addEventListener("keydown", function (e) {
      // isComposing / 229: Enter that confirms a pinyin candidate must not send.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitFromInput();
      }
    });
    sendBtn.addEventListener("click", function (e) {
      // The second click of a double-click on "send" would hit "stop": ignore it.
      if (state.busy && e.detail < 2) stop();
      else if (!state.busy) submitFromInput();
    });

    function submitFromInput() {
      if (state.busy) return;
      var text = textarea.value.trim();
      if (!text) return;
      textarea.value = "";
      autoGrow();
      ask(text);
      textarea.focus();
    }

    function setBusy(busy) {
      state.busy = busy;
      messages.setAttribute("aria-busy", busy ? "true" : "false");
      sendBtn.replaceChildren(icon(busy ? "stop" : "send", busy));
      sendBtn.classList.toggle("stop", busy);
      sendBtn.setAttribute("aria-label", busy ? TEXT.stop : TEXT.send);
      sendBtn.title = busy ? TEXT.stop : TEXT.send;
      // The send button is disabled when idle with an empty box: keep the keyboard in the widget.
      var lost = !busy && sendBtn.matches(":focus");
      syncSendButton();
      if (lost) textarea.focus();
    }

    function scrollToBottom() {
      messages.scrollTop = messages.scrollHeight;
    }

    // --- messages
    function addWelcome() {
      messages.append(h("div", { class: "msg bot welcome" },
        h("span", { class: "sr-only", text: TEXT.bot }),
        h("div", { class: "answer", text: config.welcome })));
      if (!config.suggestions.length) return;
      var chips = h("div", { class: "suggestions", role: "group", "aria-label": TEXT.suggestions });
      config.suggestions.forEach(function (q) {
        chips.append(h("button", { type: "button", class: "chip", text: q, onclick: function () {
          ask(q);
          textarea.focus();
        } }));
      });
      messages.append(chips);
    }

    function addUserMessage(text) {
      messages.append(h("div", { class: "msg user" }, h("span", { class: "sr-only", text: TEXT.you }), text));
      scrollToBottom();
    }

    function citeButton(c) {
      return h("button", {
        type: "button",
        class: "cite",
        "data-n": String(c.n),
        "aria-label": TEXT.citeLabel(c.n, c.title || ""),
        title: c.title || "",
        onclick: function (e) {
          openArticle(c, e.currentTarget);
        },
      }, String(c.n));
    }

    // Text with [n] / [1,2] markers -> text nodes and citation buttons.
    function renderAnswerText(el, text, citations) {
      var byN = new Map();
      (citations || []).forEach(function (c) {
        byN.set(Number(c.n), c);
      });
      el.replaceChildren();
      var re = /\[(\d+(?:\s*[,，、]\s*\d+)*)\]/g;
      var last = 0;
      var m;
      while ((m = re.exec(text))) {
        var nums = m[1].split(/\s*[,，、]\s*/).map(Number);
        if (!nums.every(function (n) {
          return byN.has(n);
        })) continue; // an unknown number stays plain text
        if (m.index > last) el.append(text.slice(last, m.index));
        nums.forEach(function (n) {
          el.append(citeButton(byN.get(n)));
        });
        last = re.lastIndex;
      }
      if (last < text.length) el.append(text.slice(last));
    }

    function sourcesList(citations) {
      var list = h("ol");
      citations.slice().sort(function (a, b) {
        return a.n - b.n;
      }).forEach(function (c) {
        var meta = metaLine(c.author, c.date);
        list.append(h("li", null, h("button", {
          type: "button",
          class: "source",
          "data-n": String(c.n),
          onclick: function (e) {
            openArticle(c, e.currentTarget);
          },
        },
        h("span", { class: "num", "aria-hidden": "true", text: String(c.n) }),
        h("span", { class: "sbody" },
          h("span", { class: "sr-only", text: "出处 " + c.n + "：" }),
          h("span", { class: "st", text: c.title || c.source || "" }),
          meta ? h("span", { class: "sm", text: meta }) : null))));
      });
      return h("div", { class: "sources" }, h("p", { class: "sources-title", text: TEXT.sources }), list);
    }

    function BotMessage() {
      this.el = h("div", { class: "msg bot" });
      messages.append(this.el);
    }
    BotMessage.prototype.pending = function () {
      this.el.className = "msg bot";
      this.el.replaceChildren(
        h("span", { class: "sr-only", text: TEXT.bot }),
        h("div", { class: "typing", "aria-label": TEXT.thinking, role: "img" }, h("span"), h("span"), h("span")));
      this.answerEl = null;
      this.frame = 0;
      scrollToBottom();
    };
    BotMessage.prototype.stream = function (text, citations) {
      var self = this;
      if (!this.answerEl) {
        this.answerEl = h("div", { class: "answer streaming" });
        this.el.replaceChildren(h("span", { class: "sr-only", text: TEXT.bot }), this.answerEl);
      }
      this.text = text;
      this.citations = citations;
      if (this.frame) return; // at most one re-render per frame while tokens pour in
      this.frame = requestAnimationFrame(function () {
        self.frame = 0;
        var nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 60;
        renderAnswerText(self.answerEl, self.text, self.citations);
        if (nearBottom) scrollToBottom();
      });
    };
    BotMessage.prototype.cancelFrame = function () {
      if (this.frame) cancelAnimationFrame(this.frame);
      this.frame = 0;
    };
    function modeNote(degraded) {
      if (!degraded) return TEXT.retrievalNote;
      if (degraded === "too_long") return TEXT.tooLongNote;
      return degraded === "unsupported" || degraded === "model_refused" ? TEXT.uncheckedNote : TEXT.degradedNote;
    }
    BotMessage.prototype.finish = function (result) {
      this.cancelFrame();
      var citations = result.citations || [];
      var answer = h("div", { class: "answer" });
      var parts = [h("span", { class: "sr-only", text: TEXT.bot })];
      this.el.className = "msg bot wide";
      if (result.refused) {
        this.el.classList.add("refused");
        answer.textContent = result.answer || "";
        parts.push(answer);
      } else {
        if (result.mode === "retrieval") {
          parts.push(h("div", { class: "badges" },
            h("span", { class: "badge", text: TEXT.retrievalBadge }),
            h("span", { class: "mode-note", text: modeNote(result.degraded) })));
        }
        renderAnswerText(answer, result.answer || "", citations);
        parts.push(answer);
        if (citations.length) parts.push(sourcesList(citations));
        else if (result.grounded === false) parts.push(h("p", { class: "note", text: TEXT.ungrounded }));
      }
      if (result.feedback_id) parts.push(feedbackRow(result.feedback_id));
      this.el.replaceChildren.apply(this.el, parts);
      this.el.setAttribute("data-state", "done");
    };
    BotMessage.prototype.waiting = function () {
      if (this.el.querySelector(".loading-note")) return;
      this.el.append(h("p", { class: "loading-note", role: "status", text: TEXT.loading }));
    };
    BotMessage.prototype.stopped = function (text, citations) {
      this.cancelFrame();
      var answer = h("div", { class: "answer" });
      renderAnswerText(answer, text, citations);
      this.el.className = "msg bot wide";
      // replaceChildren would write a null child as the text "null": leave the answer out instead.
      var parts = [h("span", { class: "sr-only", text: TEXT.bot })];
      if (text) parts.push(answer);
      parts.push(h("p", { class: "note", text: TEXT.stopped }));
      this.el.replaceChildren.apply(this.el, parts);
      this.el.setAttribute("data-state", "stopped");
    };
    BotMessage.prototype.error = function (message, onRetry, partialText, citations) {
      var self = this;
      this.cancelFrame();
      this.el.className = "msg bot error";
      var retry = h("button", { type: "button", class: "retry", onclick: function () {
        if (state.busy) return;
        state.pendingRetry = null;
        textarea.focus(); // this button is about to be replaced
        onRetry();
      } }, icon("retry"), TEXT.retry);
      var parts = [];
      if (partialText) {
        // What arrived before the connection broke stays readable above the error.
        var partial = h("div", { class: "answer" });
        renderAnswerText(partial, partialText, citations || []);
        parts.push(partial);
      }
      parts.push(
        h("div", { class: "error-row", role: "alert" }, icon("alert"), h("span", { class: "error-text", text: message })),
        retry);
      this.el.replaceChildren.apply(this.el, parts);
      this.el.setAttribute("data-state", "error");
      state.pendingRetry = {
        drop: function () {
          retry.remove();
        },
      };
      scrollToBottom();
      return retry;
    };

    // --- 👍/👎 on an answer (POST /api/feedback), with an optional comment after 👎
    function feedbackRow(id) {
      var row = h("div", { class: "feedback", role: "group", "aria-label": TEXT.feedbackAsk });
      var status = h("span", { class: "fbstatus", role: "status" });
      function send(rating, comment) {
        return api.feedback(id, rating, comment);
      }
      function choose(rating) {
        up.setAttribute("aria-pressed", String(rating === "up"));
        down.setAttribute("aria-pressed", String(rating === "down"));
        send(rating).then(function () {
          status.textContent = TEXT.feedbackThanks;
          if (rating === "down" && !row.querySelector(".fbform")) {
            var form = commentForm();
            row.append(form);
            form.querySelector("input").focus(); // brings the optional comment into view, keyboard included
          }
        }, function () {
          status.textContent = TEXT.feedbackError;
        });
      }
      function commentForm() {
        var input = h("input", { type: "text", maxlength: "500", "aria-label": TEXT.feedbackComment,
          placeholder: TEXT.feedbackComment });
        var form = h("form", { class: "fbform" }, input, h("button", { type: "submit", text: TEXT.feedbackSend }));
        form.addEventListener("submit", function (e) {
          e.preventDefault();
          var text = input.value.trim();
          if (!text) return;
          send("down", text).then(function () {
            form.remove();
            status.textContent = TEXT.feedbackSent;
          }, function () {
            status.textContent = TEXT.feedbackError;
          });
        });
        return form;
      }
      var up = h("button", { type: "button", class: "fbbtn", "aria-pressed": "false", "aria-label": TEXT.feedbackUp,
        title: TEXT.feedbackUp, text: "👍 " + TEXT.feedbackUp, onclick: function () { choose("up"); } });
      var down = h("button", { type: "button", class: "fbbtn", "aria-pressed": "false", "aria-label": TEXT.feedbackDown,
        title: TEXT.feedbackDown, text: "👎 " + TEXT.feedbackDown, onclick: function () { choose("down"); } });
      row.append(up, down, status);
      return row;
    }

    // --- one question/answer turn
    function ask(question) {
      // By code point, as the server counts: a UTF-16 slice could split an emoji into a lone surrogate.
      question = Array.from(String(question || "").trim()).slice(0, MAX_QUESTION_CHARS).join("");
      if (!question) return false;
      if (state.busy) stop();
      if (!articleView.hidden) closeArticle(true);
      if (state.pendingRetry) {
        state.pendingRetry.drop();
        state.pendingRetry = null;
      }
      var chips = messages.querySelector(".suggestions");
      if (chips) chips.remove(); // examples are for an empty conversation only
      addUserMessage(question);
      var turn = { question: question, history: state.history.slice() };
      runTurn(turn, new BotMessage());
      return true;
    }

    async function runTurn(turn, msg) {
      var controller = new AbortController();
      state.controller = controller;
      setBusy(true);
      msg.pending();
      announce(TEXT.thinking);
      var progress = { text: "", citations: [] };
      try {
        var convo = turn.history.concat([{ role: "user", content: turn.question }]).slice(-MAX_MESSAGES);
        var result = await api.chat(convo, controller.signal, progress, function () {
          msg.stream(progress.text, progress.citations);
        }, function () {
          msg.waiting();
          announce(TEXT.loading);
        });
        msg.finish(result);
        state.history.push({ role: "user", content: turn.question }, { role: "assistant", content: result.answer || "" });
        announce(TEXT.done + " " + (result.answer || ""));
      } catch (err) {
        var text = progress.text;
        if (controller.signal.aborted) {
          if (msg.el.isConnected) {
            msg.stopped(text, progress.citations);
            // A stopped answer still belongs to the conversation the user sees.
            if (text) state.history.push({ role: "user", content: turn.question }, { role: "assistant", content: text });
            announce(TEXT.stopped);
          }
        } else {
          var message = err instanceof ApiError ? err.message : TEXT.netError;
          msg.error(message, function () {
            runTurn(turn, msg);
          }, message === TEXT.cutOff ? text : "", progress.citations);
          announce(message);
        }
      } finally {
        if (state.controller === controller) {
          state.controller = null;
          setBusy(false);
        }
        var nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
        if (msg.el.isConnected && state.open && articleView.hidden && nearBottom) scrollToBottom();
      }
    }

    function stop() {
      if (state.controller) state.controller.abort();
    }

    // --- article view
    function openArticle(citation, opener) {
      state.returnFocus = opener || null;
      chatView.setAttribute("inert", "");
      chatView.setAttribute("aria-hidden", "true");
      articleView.hidden = false;
      loadArticle(citation);
    }

    async function loadArticle(citation) {
      if (state.articleController) state.articleController.abort();
      var controller = new AbortController();
      state.articleController = controller;
      barTitle.textContent = citation.title || "";
      articleScroll.replaceChildren(h("p", { class: "status", role: "status", text: TEXT.loadingArticle }));
      backBtn.focus();
      try {
        var data = state.articles.get(citation.article_id);
        if (!data) {
          data = await api.article(citation.article_id, controller.signal);
          state.articles.set(citation.article_id, data);
        }
        if (state.articleController !== controller) return;
        renderArticle(data, citation);
      } catch (err) {
        if (controller.signal.aborted) return;
        var message = err instanceof ApiError ? err.message : TEXT.netError;
        articleScroll.replaceChildren(
          h("p", { class: "status error", role: "alert", text: TEXT.articleError + message }),
          h("button", { type: "button", class: "retry", onclick: function () {
            loadArticle(citation);
          } }, icon("retry"), TEXT.retry));
      } finally {
        if (state.articleController === controller) state.articleController = null;
      }
    }

    function renderArticle(data, citation) {
      var meta = data.article || {};
      var text = String(data.text || "");
      var title = meta.title || citation.title || "";
      var heading = h("h3", { class: "atitle", tabindex: "-1", text: title });
      barTitle.textContent = title;
      var metaRow = h("div", { class: "ameta" });
      var by = metaLine(meta.author, meta.date);
      if (by) metaRow.append(h("span", { text: by }));
      var url = safeHttpUrl(meta.url || citation.url);
      if (url) {
        metaRow.append(h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, TEXT.original, icon("external")));
      }

      var where = locatePassage(text, citation);
      var paragraphs = articleParagraphs(text, where.start, where.end);
      var body = paragraphs.body;
      var marks = paragraphs.marks;
      articleScroll.replaceChildren(heading, metaRow,
        marks.length ? h("p", { class: "hint", text: TEXT.highlightHint }) : null, body);
      articleScroll.scrollTop = 0;
      if (marks.length) {
        // Scroll only the article pane: scrollIntoView could also scroll the host page.
        var first = marks[0];
        var last = marks[marks.length - 1];
        var paneTop = articleScroll.getBoundingClientRect().top;
        var top = first.getBoundingClientRect().top - paneTop + articleScroll.scrollTop;
        var height = last.getBoundingClientRect().bottom - first.getBoundingClientRect().top;
        var room = articleScroll.clientHeight - height;
        articleScroll.scrollTop = Math.max(0, top - Math.max(room / 2, 24));
      }
      heading.focus({ preventScroll: true });
      announce(TEXT.openedArticle(title));
    }

    function closeArticle(silent) {
      if (state.articleController) state.articleController.abort();
      articleView.hidden = true;
      chatView.removeAttribute("inert");
      chatView.removeAttribute("aria-hidden");
      if (silent) return;
      var target = state.returnFocus;
      state.returnFocus = null;
      if (target && target.isConnected) target.focus();
      else textarea.focus();
    }

    // --- open / close / clear
    function open(focus) {
      if (state.open) {
        if (focus) textarea.focus();
        return;
      }
      state.open = true;
      panel.hidden = false;
      root.classList.add("is-open");
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", TEXT.close);
      launcher.replaceChildren(icon("down"));
      scrollToBottom();
      if (focus) textarea.focus();
    }

    function close(focusLauncher) {
      if (!state.open) return;
      state.open = false;
      panel.hidden = true;
      root.classList.remove("is-open");
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-label", TEXT.open);
      launcher.replaceChildren(icon("chat"));
      if (focusLauncher) launcher.focus();
    }

    function toggle(focus) {
      if (state.open) close(focus);
      else open(focus);
    }

    function clear(focus) {
      stop();
      state.history = [];
      state.pendingRetry = null;
      if (!articleView.hidden) closeArticle(true);
      messages.replaceChildren();
      addWelcome();
      announce(TEXT.cleared);
      if (focus) textarea.focus();
    }

    addWelcome();
    document.body.appendChild(host);
    if (config.open) open(false); // no focus theft on page load

    return {
      version: VERSION,
      open: function () {
        open(true);
      },
      close: function () {
        close(false);
      },
      toggle: function () {
        toggle(true);
      },
      ask: function (text) {
        open(false);
        return ask(text);
      },
      clear: function () {
        clear(false);
      },
      get history() {
        return state.history.slice();
      },
    };
  }

  function init() {
    if (window.RagWidget && window.RagWidget.version) return;
    window.RagWidget = createWidget(readConfig());
  }

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
