import Foundation

// Lenient decoding: every field may be omitted and takes its default, so a job's parameters can
// name only what they change (decode with `.convertFromSnakeCase` for snake_case JSON):
//
//     let dec = JSONDecoder(); dec.keyDecodingStrategy = .convertFromSnakeCase
//     var c = try dec.decode(TrainingConfig.self, from: #"{"model":{"kind":"mlp"},"batch_size":32}"#.data(using: .utf8)!)
//     c.model.inputDim = 384; c.model.outputDim = 384     // from the spaces; then c.validate()

extension KeyedDecodingContainer {
    fileprivate func value<V: Decodable>(_ key: K, _ def: V) throws -> V { try decodeIfPresent(V.self, forKey: key) ?? def }
}

extension ModelConfig {
    enum CodingKeys: String, CodingKey {
        case kind, inputDim, outputDim, dModel, heads, ffnDim, layers, mlpHidden, dropout, finalNorm, layerNormEps
        case loss, symmetric, temperatureInit, temperatureMin, temperatureMax, learnTemperature
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.value(.kind, .sigPredictor), inputDim: try c.value(.inputDim, 0), outputDim: try c.value(.outputDim, 0))
        dModel = try c.value(.dModel, dModel); heads = try c.value(.heads, heads); ffnDim = try c.value(.ffnDim, ffnDim)
        layers = try c.value(.layers, layers); mlpHidden = try c.value(.mlpHidden, mlpHidden)
        dropout = try c.value(.dropout, dropout); finalNorm = try c.value(.finalNorm, finalNorm)
        layerNormEps = try c.value(.layerNormEps, layerNormEps); loss = try c.value(.loss, loss)
        symmetric = try c.value(.symmetric, symmetric); temperatureInit = try c.value(.temperatureInit, temperatureInit)
        temperatureMin = try c.value(.temperatureMin, temperatureMin); temperatureMax = try c.value(.temperatureMax, temperatureMax)
        learnTemperature = try c.value(.learnTemperature, learnTemperature)
    }
}

extension OptimizerConfig {
    enum CodingKeys: String, CodingKey {
        case learningRate, beta1, beta2, eps, weightDecay, gradClip, warmupSteps, minLearningRateRatio
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        learningRate = try c.value(.learningRate, learningRate); beta1 = try c.value(.beta1, beta1)
        beta2 = try c.value(.beta2, beta2); eps = try c.value(.eps, eps); weightDecay = try c.value(.weightDecay, weightDecay)
        gradClip = try c.value(.gradClip, gradClip); warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
        minLearningRateRatio = try c.value(.minLearningRateRatio, minLearningRateRatio)
    }
}

extension TrainingConfig {
    enum CodingKeys: String, CodingKey {
        case model, optimizer, batchSize, epochs, seed, maxTokens, hardNegatives, patience, evalBatchSize
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.value(.model, ModelConfig(kind: .sigPredictor, inputDim: 0, outputDim: 0)))
        optimizer = try c.value(.optimizer, optimizer); batchSize = try c.value(.batchSize, batchSize)
        epochs = try c.value(.epochs, epochs); seed = try c.value(.seed, seed); maxTokens = try c.value(.maxTokens, maxTokens)
        hardNegatives = try c.value(.hardNegatives, hardNegatives); patience = try c.value(.patience, patience)
        evalBatchSize = try c.value(.evalBatchSize, evalBatchSize)
    }
}
