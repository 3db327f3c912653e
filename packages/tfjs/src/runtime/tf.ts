// The one tfjs-core namespace the engine and its plugins share. Import the
// package's main entry (its ESM build does not resolve under Node's loader).
import * as tf from '@tensorflow/tfjs-core';

// Production mode silences tfjs's console banners (e.g. the cpu backend's
// "install our node backend" notice), which would otherwise land in the
// CLI's output; gmmkit reports the backend it chose itself.
tf.enableProdMode();

export { tf };
