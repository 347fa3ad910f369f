// htm bound to Preact: every module renders with the html`` tag.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
