// The shop's single-page app: plain JS, no build step, every request to this origin's /api
// (the products to /api/catalog, the catalog service the site mounts there).
// Routes: /  (the catalogue), /products/<sku>, /orders/<order_id>. Links are followed with the
// History API; the server answers any other path with index.html, so deep links load this app.

const API = "/api";
const main = document.getElementById("main");
const price = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
let current = null; // the AbortController of the page being rendered

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// An element with attributes and children (strings become text: nothing is parsed as HTML).
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null));
  return node;
}

async function api(path, signal) {
  let response;
  try {
    response = await fetch(API + path, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The shop cannot be reached. Check your connection and try again.");
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error && body.error.message;
    throw new ApiError(response.status, message || `The shop answered ${response.status} ${response.statusText}.`);
  }
  return body;
}

function show(title, ...content) {
  document.title = title ? `${title} · Shop` : "Shop";
  main.replaceChildren(...content);
}

function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

function loading(what) {
  show("Loading", h("p", { class: "status", role: "status" }, `Loading ${what}…`));
}

function failure(title, error) {
  const detail = error.status ? `Error ${error.status}` : null;
  show(
    title,
    heading(title),
    h("div", { class: "error", role: "alert" }, h("p", {}, error.message), detail && h("p", {}, detail)),
    h("p", {}, h("a", { href: "/" }, "Back to all products")),
  );
}

const money = (cents) => price.format(cents / 100);

async function productList(signal) {
  loading("products");
  const products = await api("/catalog/products", signal);
  const items = products.map((p) =>
    h(
      "li",
      {},
      h("a", { href: `/products/${encodeURIComponent(p.sku)}` }, p.name),
      h("span", { class: "price" }, money(p.price_cents)),
    ),
  );
  show(
    "",
    heading("Products"),
    items.length
      ? h("ul", { class: "products", "aria-label": "Products" }, items)
      : h("p", { class: "status" }, "No products yet."),
  );
}

async function productPage(sku, signal) {
  loading(`product ${sku}`);
  const p = await api(`/catalog/products/${encodeURIComponent(sku)}`, signal);
  show(
    p.name,
    heading(p.name),
    h(
      "dl",
      { class: "facts" },
      [h("dt", {}, "SKU"), h("dd", {}, p.sku)],
      [h("dt", {}, "Price"), h("dd", {}, money(p.price_cents))],
    ),
    h("p", {}, h("a", { href: "/" }, "Back to all products")),
  );
}

async function orderPage(orderId, signal) {
  loading(`order ${orderId}`);
  const order = await api(`/orders/${encodeURIComponent(orderId)}`, signal);
  let product = null;
  try {
    product = await api(`/catalog/products/${encodeURIComponent(order.sku)}`, signal);
  } catch (error) {
    if (error.name === "AbortError") throw error; // else: the order still shows, by SKU
  }
  const placed = new Date(order.created_at);
  const facts = [
    h("dt", {}, "Product"),
    h("dd", {}, h("a", { href: `/products/${encodeURIComponent(order.sku)}` }, product ? product.name : order.sku)),
    h("dt", {}, "Quantity"),
    h("dd", {}, String(order.qty)),
  ];
  if (product) facts.push(h("dt", {}, "Total"), h("dd", {}, money(product.price_cents * order.qty)));
  facts.push(h("dt", {}, "Customer"), h("dd", {}, order.customer_id));
  facts.push(
    h("dt", {}, "Placed"),
    h("dd", {}, h("time", { datetime: order.created_at }, isNaN(placed) ? order.created_at : placed.toLocaleString())),
  );
  show(`Order ${order.order_id}`, heading(`Order ${order.order_id}`), h("dl", { class: "facts" }, facts));
}

function notFound() {
  const home = h("a", { href: "/" }, "See all products.");
  show("Page not found", heading("Page not found"), h("p", {}, "There is no page at this address. ", home));
}

// The page for a path: [title for errors, a function that renders it].
function route(path) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return ["Products unavailable", productList];
  if (parts.length === 2 && parts[0] === "products") return ["Product not found", (s) => productPage(parts[1], s)];
  if (parts.length === 2 && parts[0] === "orders") return ["Order not found", (s) => orderPage(parts[1], s)];
  return ["Page not found", async () => notFound()];
}

async function render({ focus }) {
  if (current) current.abort();
  const controller = (current = new AbortController());
  let title, page;
  try {
    [title, page] = route(location.pathname);
  } catch {
    [title, page] = ["Page not found", async () => notFound()]; // a malformed %-escape
  }
  try {
    await page(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return; // a newer navigation took over
    failure(title, error instanceof ApiError ? error : new ApiError(0, "Something went wrong showing this page."));
    if (!(error instanceof ApiError)) console.warn(error);
  }
  if (focus && !controller.signal.aborted) (main.querySelector("h1") || main).focus();
}

// Same-origin links without modifiers are followed here; the rest are the browser's.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // a new tab or window
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || url.pathname.startsWith(API + "/")) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return; // in-page
  event.preventDefault();
  if (url.href !== location.href) history.pushState(null, "", url.href);
  window.scrollTo(0, 0);
  render({ focus: true });
});

window.addEventListener("popstate", () => render({ focus: true }));
render({ focus: false });
