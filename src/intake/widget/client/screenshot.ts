// The on-demand chunk: modern-screenshot, exposed for widget.ts, loaded only when asked.
import { domToJpeg, domToPng } from 'modern-screenshot';

(window as unknown as { __userzScreenshot: unknown }).__userzScreenshot = { domToPng, domToJpeg };
