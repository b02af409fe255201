/**
 * Canonical XML 1.1 without comments (W3C REC xml-c14n11, "http://www.w3.org/2006/12/xml-c14n11")
 * for the one shape NVIDIA's RIMs have, written here rather than taken from a library: xmldsigjs
 * 2.8.8 (the WebCrypto XML-DSig library) registers C14N 1.0 and exclusive C14N but not C14N 1.1,
 * which is what every NVIDIA RIM names for both SignedInfo and its Reference; xml-crypto needs
 * node:crypto. The subset this module accepts is checked by `assertPlainDocument` first, and makes
 * C14N 1.1 and 1.0 produce the same bytes:
 *   - no DOCTYPE (so no entity or default-attribute expansion), no processing instruction (an XML
 *     declaration is allowed: C14N drops it), no comment, no CDATA section: the document is
 *     elements, attributes and text only;
 *   - no attribute in the xml: namespace (C14N 1.1 differs from 1.0 only in how xml:id, xml:base
 *     and the other xml: attributes of omitted ancestors are inherited, §2.4).
 * Within it, the rules applied (c14n11 §2.2–2.3, as in c14n 1.0 §2.3): the document's children
 * are its root element only; empty elements become start–end pairs; namespace declarations are
 * rendered on the subset's apex for every namespace in scope and below only where they differ
 * from the parent's, sorted by prefix (default first); other attributes sorted by namespace URI
 * then local name; text and attribute values escaped as §2.3 says; `omit` (the enveloped
 * Signature, XML-DSig §6.6.4) and its subtree are left out.
 */
import type { Document, Element, Node } from '@xmldom/xmldom';
import { SealgateError } from '../../../errors.js';

const XMLNS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** The DOM node types this module meets (DOM Level 2 Core `Node.nodeType`). */
const ELEMENT = 1;
const TEXT = 3;
const PROCESSING_INSTRUCTION = 7;
const DOCUMENT = 9;

/** `<?xml version="1.0" encoding="UTF-8"?>`, encoding and standalone optional (XML 1.0 §2.8). */
const XML_DECLARATION = /^version="1\.0"( encoding="[Uu][Tt][Ff]-8")?( standalone="(yes|no)")?$/;

function bad(message: string): SealgateError {
  return new SealgateError('malformed_evidence', `RIM: ${message}`, { field: 'rim' });
}

/** Every node of the document is an element, an attribute or text (see the header). */
export function assertPlainDocument(doc: Document): void {
  // Outside the root: an XML declaration (which xmldom presents as a PI named "xml"; C14N drops it)
  // and whitespace (dropped too, c14n11 §2.2 — there is no PI or comment it could separate).
  const children = Array.from(doc.childNodes).filter(
    (n, i) =>
      !(
        i === 0 &&
        n.nodeType === PROCESSING_INSTRUCTION &&
        n.nodeName === 'xml' &&
        XML_DECLARATION.test(n.nodeValue ?? '')
      ) && !(n.nodeType === TEXT && /^[ \t\r\n]*$/.test(n.nodeValue ?? '')),
  );
  if (children.length !== 1 || children[0]!.nodeType !== ELEMENT) {
    throw bad('the document must be one root element (no DOCTYPE, comment or processing instruction)');
  }
  const walk = (el: Element): void => {
    for (const a of Array.from(el.attributes)) {
      if (a.namespaceURI === XML_NS || a.name.startsWith('xml:')) {
        throw bad(`attribute ${a.name} in the xml: namespace is not accepted`);
      }
    }
    for (const child of Array.from(el.childNodes)) {
      if (child.nodeType === ELEMENT) walk(child as Element);
      else if (child.nodeType !== TEXT) {
        throw bad(`node type ${child.nodeType} (comment, CDATA or processing instruction) is not accepted`);
      }
    }
  };
  walk(children[0] as Element);
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

function escapeAttribute(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

/** prefix ('' for the default namespace) → namespace URI, as declared on `el` itself. */
function declared(el: Element): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of Array.from(el.attributes)) {
    if (a.namespaceURI === XMLNS || a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
      out.set(a.name === 'xmlns' ? '' : a.name.slice(6), a.value);
    }
  }
  return out;
}

/** The namespaces in scope at `el`: its ancestors' declarations, then its own. */
function inScope(el: Element): Map<string, string> {
  const chain: Element[] = [];
  for (let n: Node | null = el; n !== null && n.nodeType === ELEMENT; n = n.parentNode)
    chain.unshift(n as Element);
  const scope = new Map<string, string>();
  for (const e of chain) for (const [p, uri] of declared(e)) scope.set(p, uri);
  return scope;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function renderElement(
  el: Element,
  parentScope: Map<string, string>,
  scope: Map<string, string>,
  omit: Node | null,
  out: string[],
): void {
  const ns: [string, string][] = [];
  for (const [prefix, uri] of scope) {
    const rendered = parentScope.get(prefix);
    // The default namespace undeclared (xmlns="") is rendered only when the parent's was not empty.
    if (prefix === '' && uri === '' && (rendered ?? '') === '') continue;
    if (rendered !== uri) ns.push([prefix, uri]);
  }
  ns.sort((a, b) => byCodePoint(a[0], b[0]));
  const attrs = Array.from(el.attributes)
    .filter((a) => !(a.namespaceURI === XMLNS || a.name === 'xmlns' || a.name.startsWith('xmlns:')))
    .map((a) => ({ uri: a.namespaceURI ?? '', local: a.localName ?? a.name, name: a.name, value: a.value }))
    .sort((a, b) => byCodePoint(a.uri, b.uri) || byCodePoint(a.local, b.local));
  out.push(`<${el.tagName}`);
  for (const [prefix, uri] of ns)
    out.push(` ${prefix === '' ? 'xmlns' : `xmlns:${prefix}`}="${escapeAttribute(uri)}"`);
  for (const a of attrs) out.push(` ${a.name}="${escapeAttribute(a.value)}"`);
  out.push('>');
  for (const child of Array.from(el.childNodes)) {
    if (child === omit) continue;
    if (child.nodeType === ELEMENT) {
      const childScope = new Map(scope);
      for (const [p, uri] of declared(child as Element)) childScope.set(p, uri);
      renderElement(child as Element, scope, childScope, omit, out);
    } else if (child.nodeType === TEXT) {
      out.push(escapeText(child.nodeValue ?? ''));
    }
  }
  out.push(`</${el.tagName}>`);
}

/**
 * The canonical form of `apex` and its subtree (an element, or the whole document), leaving out
 * `omit` and its subtree. The apex renders every namespace in scope at it, its ancestors'
 * declarations included, as §2.3 requires of an element whose parent is not in the node set.
 */
export function canonicalize(apex: Element | Document, omit: Node | null = null): string {
  const el = apex.nodeType === DOCUMENT ? (apex as Document).documentElement : (apex as Element);
  if (el === null) throw bad('no root element');
  const out: string[] = [];
  renderElement(el, new Map(), inScope(el), omit, out);
  return out.join('');
}
