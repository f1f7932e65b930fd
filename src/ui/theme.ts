/**
 * Colours by meaning, not by name: components ask for `allow`, `deny`, `held`, `live`... and the
 * theme (ui.theme: auto, dark, light) says which terminal colour that is. NO_COLOR turns them
 * all off.
 */
export type Token = 'allow' | 'deny' | 'held' | 'live' | 'idle' | 'starting' | 'problem' | 'accent';

const DARK: Record<Token, string> = { allow: 'green', deny: 'red', held: 'yellow', live: 'green', idle: 'gray', starting: 'cyan', problem: 'red', accent: 'cyan' };
// On a light background yellow and cyan are hard to read: their darker neighbours.
const LIGHT: Record<Token, string> = { ...DARK, held: 'magenta', starting: 'blue', accent: 'blue', idle: 'blackBright' };

export type Paint = (token: Token) => string | undefined;

export function theme(name: 'auto' | 'dark' | 'light' | undefined, env: NodeJS.ProcessEnv): Paint {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return () => undefined;
  // COLORFGBG ("15;0": light text on a dark background) is what terminals that say anything say.
  const light = name === 'light' || (name !== 'dark' && /;(7|15)$/.test(env.COLORFGBG ?? '') === true);
  const table = light ? LIGHT : DARK;
  return (token) => table[token];
}
