import SNSCore

/// Placeholder until the simulation lands.
public enum SimulationPlaceholder {}
