// Small inline icons (SVG drawn here, no files): decorative, so hidden from
// screen readers; the element that holds one carries the words.
const paths = {
  in: 'M17 7 7 17M7 9v8h8',
  out: 'M7 17 17 7M9 7h8v8',
  unknown: 'M6 12h12',
  lock: 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z',
  more: 'M12 5.5v.01M12 12v.01M12 18.5v.01',
  play: 'M8 5v14l11-7z',
  info: 'M12 8v.01M11 12h1v5h1M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z',
};

const ns = 'http://www.w3.org/2000/svg';

/** icon returns an SVG element for name, hidden from assistive technology. */
export function icon(name, cls = '') {
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name} ${cls}`.trim());
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', paths[name] ?? paths.unknown);
  svg.append(p);
  return svg;
}
