// Renders the settings table (lib/config/settings.ts) for people: `--help` text and
// the README's markdown table. Nothing here knows a setting by name.
import { VERSION } from '../util/version.js';
import { FOLDER_SETTING_NAMES, SITE_SETTING_NAMES } from './hosting-settings.js';
import { SETTING_LIST, type Setting } from './settings.js';

/** Flags that are not settings: they print something and exit. */
export const META_FLAGS = [
  { flag: '--help', short: '-h', help: 'Print this help and exit.' },
  { flag: '--version', short: null, help: 'Print the pypages version and exit.' },
  {
    flag: '--check',
    short: null,
    help: 'Check the configuration (settings, sites, their Pythons, log folders) without serving; list every problem and exit 0 if there is none, else 2.',
  },
] as const;

function usage(s: Setting<unknown>): string {
  if (s.flag === null) return '(pypages.yaml only)';
  return s.metavar === null || s.positional ? s.flag : `${s.flag} ${s.metavar}`;
}

function wrap(text: string, indent: number, width = 80): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l);
}

/** The `pypages --help` text: usage, then every setting with its YAML key and default. */
export function helpText(): string {
  const positional = SETTING_LIST.filter((s) => s.positional)
    .map((s) => ` [${s.flag}]`)
    .join('');
  const out = [
    `Usage: pypages [options]${positional}`,
    '',
    'Serve a folder: every .py file that defines a WSGI `application` is a page,',
    'other files are served as they are.',
    '',
    'Settings (command line overrides pypages.yaml, which overrides defaults):',
  ];
  for (const s of SETTING_LIST) {
    out.push(`  ${usage(s)}`);
    out.push(...wrap(s.help, 6));
    const yaml = s.yaml === null ? 'command line only' : `yaml: ${s.yaml}`;
    out.push(...wrap(`(${yaml}; default: ${s.defaultText}; allowed: ${s.allowed})`, 6));
  }
  out.push('', 'Other options:');
  for (const m of META_FLAGS) out.push(`  ${m.short === null ? m.flag : `${m.short}, ${m.flag}`}`, ...wrap(m.help, 6));
  return out.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** "✓" when `name` is in `names`: the Site column (sites:) and the Folder column (.pypages.yaml). */
function mark(names: readonly string[], name: string): string {
  return names.includes(name) ? '✓' : '';
}

/** The README's settings table, in markdown. */
export function markdownTable(): string {
  const rows = [
    '| Setting | Command line | pypages.yaml | Site | Folder | Default | Allowed | Description |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of SETTING_LIST) {
    const yaml = s.yaml === null ? '—' : `\`${s.yaml}\``;
    const scope = `${mark(SITE_SETTING_NAMES, s.name)} | ${mark(FOLDER_SETTING_NAMES, s.name)}`;
    rows.push(
      `| ${s.name} | \`${usage(s)}\` | ${yaml} | ${scope} | ${cell(s.defaultText)} | ${cell(s.allowed)} | ${cell(s.help)} |`,
    );
  }
  return rows.join('\n');
}

/** `pypages --version` text. */
export function versionText(): string {
  return `pypages ${VERSION}`;
}
