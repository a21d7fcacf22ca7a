// The emergency alarm: a two-tone beep repeated until stopped, made with the Web Audio API
// so no sound file has to be shipped or fetched.
//
// Browsers start an AudioContext "suspended" until the page has had a user gesture; the
// staff member has clicked "Sign in" by the time an alert can come, so resume() normally
// works. When it does not, `start` says so and the view offers a button to enable sound.

const BEEP_EVERY_MS = 1600;

type AudioContextClass = typeof AudioContext;

function audioContextClass(): AudioContextClass | undefined {
  const w = window as typeof window & { webkitAudioContext?: AudioContextClass };
  return window.AudioContext ?? w.webkitAudioContext;
}

export class Alarm {
  private context: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** Starts beeping; resolves true when the browser lets it be heard. */
  async start(): Promise<boolean> {
    const Context = audioContextClass();
    if (!Context) return false;
    this.context ??= new Context();
    if (this.context.state === 'suspended') {
      try {
        await this.context.resume();
      } catch {
        // Refused without a user gesture: reported through the return value.
      }
    }
    if (this.timer === null) {
      this.beep();
      this.timer = setInterval(() => this.beep(), BEEP_EVERY_MS);
    }
    return this.context.state === 'running';
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private beep(): void {
    const context = this.context;
    if (!context || context.state !== 'running') return;
    const now = context.currentTime;
    [880, 660].forEach((frequency, i) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = frequency;
      const at = now + i * 0.25;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.24);
    });
  }
}
