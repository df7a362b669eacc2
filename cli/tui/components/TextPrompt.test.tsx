import { describe, expect, it } from 'vitest';
import { KEY, renderTui } from '../test-utils/render.js';
import { TextPrompt } from './TextPrompt.js';

describe('TextPrompt', () => {
  it('edits with typed keys and backspace, submits on enter, and applies a pasted chunk with its newline', async () => {
    const submitted: string[] = [];
    const t = renderTui(<TextPrompt label="sigmaUm" initial="0.4" onSubmit={(s) => submitted.push(s)} onCancel={() => submitted.push('<cancel>')} />);
    expect(t.frame()).toContain('sigmaUm: 0.4');
    await t.press(KEY.backspace);
    await t.type('8');
    expect(t.frame()).toContain('sigmaUm: 0.8');
    await t.press(KEY.enter);
    await t.press('12.5\r');
    await t.press(KEY.esc);
    await new Promise((r) => setTimeout(r, 50));
    expect(submitted).toEqual(['0.8', '0.812.5', '<cancel>']);
    t.unmount();
  });
});
