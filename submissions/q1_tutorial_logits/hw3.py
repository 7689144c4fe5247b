"""A q1 sample, correct: the TensorFlow tutorial's `model_builder` ("Introduction to the Keras Tuner",
tensorflow.org/tutorials/keras/keras_tuner) adapted to the contract (test data for the grader). As in
the tutorial, the model ends in logits, `Dense(10)`, and compiles
`SparseCategoricalCrossentropy(from_logits=True)`; the tuner is the tutorial's Hyperband call with
`directory` and `project_name` passed through.
Expected: full marks, no message contradicting another (tests/golden/q1_tutorial_logits/q1.json).
"""
import keras
import keras_tuner as kt


def model_builder(hp):
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))

    # Tune the number of convolutional layers, and the filters and kernel of each
    for i in range(hp.Int('conv_layers', min_value=2, max_value=5)):
        hp_filters = hp.Int(f'filters_{i}', min_value=32, max_value=256, step=32)
        hp_kernel = hp.Choice(f'kernel_{i}', values=[3, 5])
        model.add(keras.layers.Conv2D(filters=hp_filters, kernel_size=hp_kernel, padding='same', activation='relu'))
        model.add(keras.layers.MaxPooling2D(pool_size=2, padding='same'))
    model.add(keras.layers.Flatten())

    # Tune the number of units in the dense layers
    # Choose an optimal value between 32-256
    for i in range(hp.Int('dense_layers', min_value=2, max_value=5)):
        hp_units = hp.Int(f'units_{i}', min_value=32, max_value=256, step=32)
        model.add(keras.layers.Dense(units=hp_units, activation='relu'))
        model.add(keras.layers.Dropout(hp.Float(f'dropout_{i}', min_value=0.0, max_value=0.5, step=0.1)))
    model.add(keras.layers.Dense(10))

    # Tune the learning rate for the optimizer
    # Choose an optimal value from 0.001, 0.0005 or 0.0001
    hp_learning_rate = hp.Choice('learning_rate', values=[1e-3, 5e-4, 1e-4])

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=hp_learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    return model


build_model = model_builder


def make_tuner(hypermodel, directory, project_name):
    return kt.Hyperband(hypermodel,
                        objective='val_accuracy',
                        max_epochs=10,
                        factor=3,
                        directory=directory,
                        project_name=project_name)


# best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]; best_hps.values
BEST_HYPERPARAMETERS = {'conv_layers': 2, 'filters_0': 128, 'kernel_0': 3, 'filters_1': 192, 'kernel_1': 5,
                        'dense_layers': 3, 'units_0': 224, 'dropout_0': 0.2, 'units_1': 96, 'dropout_1': 0.1,
                        'units_2': 64, 'dropout_2': 0.0, 'learning_rate': 0.001, 'tuner/epochs': 10,
                        'tuner/initial_epoch': 4, 'tuner/bracket': 2, 'tuner/round': 2, 'tuner/trial_id': '0012'}
BEST_VAL_ACCURACY = 0.9911666512489319
