// HWRKernels: the CRNN's numerical kernels (convolution, pooling, batch norm, LSTM, dense, softmax,
// CTC) over raw pointers and OpenBLAS. Conventions shared by every kernel of the module:
//
// Dimensions. Shapes are written in brackets, outermost first, row-major, with these letters
// (parameter names in parentheses):
//   N     batch: samples in one call (`b`, `batch`)
//   H, W  height and width of a feature map in pixels or cells (`h`, `w`)
//   C     channels of a feature map, innermost (NHWC); Cin and Cout on either side of a
//         convolution (`c`, `cin`, `cout`)
//   K     side of a square convolution kernel, K x K (`k`)
//   R     rows of a matrix of per-position vectors: N*H*W for a feature map, T*N for a sequence (`n`, `rows`)
//   T     time steps of a sequence; sequences are time-major, [T, N, F] (`steps`)
//   F     features per step or per vector: the inputs of an LSTM or dense layer (`inputs`)
//   U     units of one LSTM direction (its hidden size); its four gates i, f, g, o make 4U (`units`)
//   O     outputs of a dense layer (`outputs`)
//   V     classes of a classifier's output; in CTC the last, V-1, is the blank (`classes`, `cols`)
// `gemm` keeps the BLAS names m, n, k for the dimensions of its product.
//
// Gradients. Every backward kernel *adds* (`+=`) into each gradient it is given, parameter and input
// gradients alike, and never overwrites one: the caller zeroes a gradient once before the backward
// pass, and then the two directions of a bidirectional LSTM, the steps of a sequence and the shards of
// a data-parallel batch add up without copies. The one exception is a kernel that works in place on
// the output gradient (ReLU, batch norm, dropout): it turns `dy` into `dx` where it lies, and says so.
