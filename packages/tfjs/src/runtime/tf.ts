// The one tfjs-core namespace the engine and its plugins share: in Node the
// package's main entry through require(), in browsers its ESM build
// (#tfjs-platform).
import { tf } from '#tfjs-platform';

// Production mode silences tfjs's console banners (e.g. the cpu backend's
// "install our node backend" notice), which would otherwise land in the
// CLI's output; gmmkit reports the backend it chose itself.
tf.enableProdMode();

export { tf };
