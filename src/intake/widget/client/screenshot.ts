// The on-demand chunk: modern-screenshot, exposed for the widget, loaded only when asked.
import { domToCanvas } from 'modern-screenshot';

(window as unknown as { __userzScreenshot: unknown }).__userzScreenshot = { domToCanvas };
